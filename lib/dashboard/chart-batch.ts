// Live chart points, batched. A Dashboard 2.0 chart keeps the points it is
// sent and copies that store on every message: at hundreds of readings a
// second, one message per point would cost more than the readings
// themselves. So the points of a period go out together, one batch per chart
// (kind) and customer, with the latest point of each line (series).
import { Clock, TimerHandle } from '../util/clock';

export interface ChartPoint {
  x: number;
  y: number;
  series: string;
}

export interface ChartBatch {
  kind: string;
  customer: string;
  points: ChartPoint[];
}

interface Pending {
  kind: string;
  customer: string;
  lines: Map<string, ChartPoint>;
}

export class ChartBatcher {
  private pending = new Map<string, Pending>();
  private timer?: TimerHandle;

  /** `emit` gets the batches of each period that had points. */
  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly emit: (batches: ChartBatch[]) => void,
  ) {}

  /** Keeps a point of line `series` for the chart of `kind` seen by `customer`. */
  add(kind: string, customer: string, series: string, y: number): void {
    const key = `${kind}|${customer}`;
    let batch = this.pending.get(key);
    if (!batch) this.pending.set(key, (batch = { kind, customer, lines: new Map() }));
    batch.lines.set(series, { x: this.clock.now(), y, series });
    this.timer ??= this.clock.setTimeout(() => this.flush(), this.periodMs);
  }

  /** Forgets what is pending (the node is closing). */
  close(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private flush(): void {
    this.timer = undefined;
    const due = this.pending;
    this.pending = new Map();
    this.emit(
      [...due.values()].map((b) => ({
        kind: b.kind,
        customer: b.customer,
        points: [...b.lines.values()],
      })),
    );
  }
}

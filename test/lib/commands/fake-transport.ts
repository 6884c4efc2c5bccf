// A CommandTransport for unit tests of the command service: it records what
// is sent, lets the test answer as units would, and goes down and up on demand.
import { CommandTransport, OrderRefused, OutgoingOrder } from '../../../lib/commands/transport';
import { CommandTarget, Incoming, targetKey } from '../../../lib/commands/types';

export class FakeTransport implements CommandTransport {
  readonly sent: OutgoingOrder[] = [];
  private ready = true;
  private readonly readyListeners = new Set<() => void>();
  private readonly listeners = new Map<string, Set<(m: Incoming) => void>>();
  /** When set, the next sends fail this way. */
  failWith?: Error;

  reaches(target: CommandTarget): boolean {
    return target.transport === 'mqtt';
  }

  isReady(): boolean {
    return this.ready;
  }

  setReady(ready: boolean): void {
    this.ready = ready;
    if (ready) for (const l of this.readyListeners) l();
  }

  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  async send(order: OutgoingOrder): Promise<void> {
    if (this.failWith) throw this.failWith;
    if (!this.ready) throw new Error('not connected');
    this.sent.push(order);
  }

  async listen(target: CommandTarget, onMessage: (m: Incoming) => void): Promise<() => void> {
    const key = targetKey(target);
    const set = this.listeners.get(key) ?? new Set();
    set.add(onMessage);
    this.listeners.set(key, set);
    return () => set.delete(onMessage);
  }

  /** How many are listening at `target`. */
  listening(target: CommandTarget): number {
    return this.listeners.get(targetKey(target))?.size ?? 0;
  }

  /** A unit's status echo at `target`. */
  echo(target: CommandTarget, unitId: string, status: unknown = 'open', rejected = false): void {
    const message: Incoming = {
      target,
      payload: { order: 'idle', unitID: unitId, status },
      echo: { unitId, status, ...(rejected ? { rejected } : {}) },
    };
    for (const l of this.listeners.get(targetKey(target)) ?? []) l(message);
  }

  refuseNext(reason = 'not authorized'): void {
    this.failWith = new OrderRefused(reason);
  }
}

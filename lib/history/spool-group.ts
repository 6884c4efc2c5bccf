// The appending side of the history spool (spool.ts): a group commit that
// writes gathered appends to the last segment, one group at a time.
//
// Appends join the group being gathered when they arrive in the same turn of
// the event loop, while the previous write is being fsynced, or within
// `groupMs` of its start; the group shares one write, one fsync and their
// outcome. So the cost of durability is paid per group, not per message:
// readings trickling in one by one would otherwise cost a write and an fsync
// each. A group is acknowledged only once fsynced, and a write cut short is
// truncated, so no half line is left before the next one.
import { FileHandle, open } from 'node:fs/promises';
import { Clock } from '../util/clock';
import { syncDir } from './spool-files';
import { Marker, Segment, segmentFile } from './spool-segments';

/** Who appended points (a message, say): told once they are stored. */
export interface SpoolSource {
  /** Called once, when the points are on disk (fsynced) or, with the
   *  error, when they could not be written. Must not throw. */
  stored(err?: Error): void;
}

/** The lines of a group, and whose they are. */
export interface GroupLines {
  /** The point lines, joined only when written (one copy, not a rope per append). */
  readonly lines: readonly string[];
  /** Sources with the indexes of their points within the group. */
  readonly sources: ReadonlyArray<{ start: number; end: number; source: SpoolSource }>;
}

/** Appends waiting for the next write: they share it, its fsync and its outcome. */
interface Group extends GroupLines {
  lines: string[];
  sources: Array<{ start: number; end: number; source: SpoolSource }>;
  /** For append(): made on first use. */
  done?: Promise<void>;
  resolve?: () => void;
  reject?: (err: Error) => void;
}

/** The spool as its appends see it. */
export interface GroupTarget {
  /** The segments, oldest first: groups go to the last one. */
  segments(): Segment[];
  /** A group is in the file: readable from now on, though acknowledged only
   *  after the fsync. `marker`: the `#t` line written before it. */
  appended(group: GroupLines, marker: Marker | undefined): void;
  /** After each group stored and its sources told, before the next write. */
  written(): Promise<void>;
}

export interface GroupOptions {
  dir: string;
  segmentBytes: number;
  /** Writes start at least this far apart (ms); default 20. */
  groupMs?: number;
  clock: Clock;
  target: GroupTarget;
}

const MARKER_EVERY_MS = 1000;
const DEFAULT_GROUP_MS = 20;

export class GroupCommit {
  private next?: Group;
  private flushing?: Promise<void>;
  /** The last segment, open for appending. */
  private writer!: FileHandle;
  private lastMarkerAt = -Infinity;
  /** When the last write started (performance.now()). */
  private lastWriteAt = -Infinity;
  private readonly groupMs: number;

  constructor(private readonly options: GroupOptions) {
    this.groupMs = options.groupMs ?? DEFAULT_GROUP_MS;
  }

  /** Adds lines to the next write; resolves once it is fsynced, rejects if not. */
  append(lines: string[]): Promise<void> {
    const group = this.gather(lines);
    group.done ??= new Promise<void>((resolve, reject) => {
      group.resolve = resolve;
      group.reject = reject;
    });
    return group.done;
  }

  /** Adds lines to the next write and tells `source` how it went. No promise
   *  per call: this is the path of every message. */
  appendFrom(lines: string[], source: SpoolSource): void {
    const group = this.gather(lines);
    const end = group.lines.length;
    group.sources.push({ start: end - lines.length, end, source });
  }

  /** Resolves once no group is left to write (those joining meanwhile included). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** At open: appends go to the last segment, or to a new one when it is
   *  full or there is none. */
  async openLast(): Promise<void> {
    const segments = this.options.target.segments();
    const last = segments[segments.length - 1];
    if (last && last.bytes < this.options.segmentBytes) {
      this.writer = await open(segmentFile(this.options.dir, last.seq), 'a', 0o600);
    } else {
      await this.addSegment((last?.seq ?? 0) + 1);
    }
  }

  /** Closes the last segment and starts a new one (so the last can be dropped). */
  async rotate(): Promise<Segment> {
    await this.writer.close();
    const segments = this.options.target.segments();
    const segment = await this.addSegment(segments[segments.length - 1].seq + 1);
    // Every segment starts with a marker, so dropping one never loses the time.
    this.lastMarkerAt = -Infinity;
    return segment;
  }

  /** Closes the file of the last segment (none yet when the open failed before it). */
  async close(): Promise<void> {
    await this.writer?.close();
  }

  private async addSegment(seq: number): Promise<Segment> {
    const segment: Segment = { seq, bytes: 0, points: 0 };
    this.writer = await open(segmentFile(this.options.dir, seq), 'a', 0o600);
    this.options.target.segments().push(segment);
    await syncDir(this.options.dir);
    return segment;
  }

  private gather(lines: string[]): Group {
    const group = (this.next ??= { lines: [], sources: [] });
    for (const line of lines) group.lines.push(line);
    this.flushing ??= this.flushLoop();
    return group;
  }

  private async flushLoop(): Promise<void> {
    // Let the appends of this turn of the event loop join the first write;
    // later ones gather while it is written and fsynced, and go next, no
    // sooner than groupMs after it started. Real timers, not the clock: this
    // paces disk writes, it is not a time of the domain.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.next) {
        const wait = this.lastWriteAt + this.groupMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        this.lastWriteAt = performance.now();
        const group = this.next;
        this.next = undefined;
        const now = this.options.clock.now();
        const marker = now - this.lastMarkerAt >= MARKER_EVERY_MS;
        const text = group.lines.join('\n') + '\n';
        const buf = Buffer.from(marker ? `#t ${now}\n` + text : text);
        try {
          const segments = this.options.target.segments();
          let segment = segments[segments.length - 1];
          if (segment.bytes > 0 && segment.bytes + buf.length > this.options.segmentBytes) {
            segment = await this.rotate();
          }
          await this.writeAll(segment, buf, marker, now, group);
          await this.writer.datasync();
        } catch (err) {
          group.reject?.(err as Error);
          for (const { source } of group.sources) source.stored(err as Error);
          continue;
        }
        group.resolve?.();
        for (const { source } of group.sources) source.stored();
        await this.options.target.written();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeAll(
    segment: Segment,
    buf: Buffer,
    marker: boolean,
    now: number,
    group: Group,
  ): Promise<void> {
    const before = segment.bytes;
    try {
      let written = 0;
      while (written < buf.length) {
        const { bytesWritten } = await this.writer.write(buf, written, buf.length - written);
        written += bytesWritten;
      }
    } catch (err) {
      // A partial write (disk full) must not leave half a line before the next one.
      await this.writer.truncate(before).catch(() => undefined);
      throw err;
    }
    // Readable from here on, though acknowledged only after the fsync.
    if (marker) this.lastMarkerAt = now;
    segment.bytes += buf.length;
    segment.points += group.lines.length;
    this.options.target.appended(
      group,
      marker ? { seq: segment.seq, offset: before, at: now } : undefined,
    );
  }
}

// The bounded on-disk spool behind every history writer: a write-ahead log of
// line protocol in append-only segment files. A point is acknowledged only
// once the write holding it has been fsynced, so it survives an InfluxDB
// outage and a crash (kill -9) of Sensflow. The sender reads batches from the
// oldest unsent point and commits them once written; a commit that is lost in
// a crash only means a batch is sent again, which InfluxDB absorbs (a point
// with the same series and time overwrites itself). When the files exceed
// the size limit, the oldest segments are dropped and the points counted.
//
// Appends that arrive together (in the same turn of the event loop, while the
// previous write is being fsynced, or within `groupMs` of its start) share one
// write and one fsync: a group commit, so the cost of durability is paid per
// group, not per message. Readings trickling in one by one would otherwise
// cost a write and an fsync each.
//
// Layout of the directory: `0000000001.lp`, `0000000002.lp`, … (segments),
// `cursor.json` (first unsent byte), `lock` (the owning process id). Each
// segment is line protocol; `#t <ms>` comment lines (InfluxDB skips them)
// record when the points after them were accepted, at most once a second.
import fs from 'node:fs';
import { FileHandle, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Clock } from '../util/clock';
import { CursorFile, lock, pointLines, readCursor, scanLines, syncDir } from './spool-files';
import {
  Marker,
  readPoints,
  readSegment,
  scanSegments,
  Segment,
  segmentFile,
  SpoolPosition,
} from './spool-segments';
import { AppendTags } from './spool-tags';

export { SpoolLockedError } from './spool-files';

export interface SpoolOptions {
  dir: string;
  /** Size limit of the segment files together, in bytes. */
  maxBytes: number;
  /** Segment size; defaults to a quarter of the limit, between 64 KiB and 8 MiB. */
  segmentBytes?: number;
  /** How many sources of appends to remember until their points are sent
   *  (the oldest are forgotten beyond it); default 20,000. */
  maxSources?: number;
  /** Writes start at least this far apart (ms), so that the appends in
   *  between share one write and fsync; default 20. */
  groupMs?: number;
  clock: Clock;
}

export type { SpoolPosition } from './spool-segments';

export interface SpoolBatch {
  /** Whole lines, `#t` comments included, as they are on disk. */
  body: Buffer;
  /** Points in the body. */
  count: number;
  end: SpoolPosition;
  /** The point lines, comments left out. */
  lines(): string[];
  /** The source given to appendFrom() with the point `line` of this
   *  batch, while it is remembered (see SpoolOptions.maxSources). */
  sourceOf(line: string): SpoolSource | undefined;
}

/** Who appended points (a message, say): told once they are stored. */
export interface SpoolSource {
  /** Called once, when the points are on disk (fsynced) or, with the
   *  error, when they could not be written. Must not throw. */
  stored(err?: Error): void;
}

/** Appends waiting for the next write: they share it, its fsync and its outcome. */
interface Group {
  /** The point lines, joined only when written (one copy, not a rope per append). */
  lines: string[];
  /** Sources with the indexes of their points within the group. */
  sources: Array<{ start: number; end: number; source: SpoolSource }>;
  /** For append(): made on first use. */
  done?: Promise<void>;
  resolve?: () => void;
  reject?: (err: Error) => void;
}

const MARKER_EVERY_MS = 1000;
const DEFAULT_GROUP_MS = 20;
const opened = new Map<string, Promise<void>>();

export class Spool {
  private segments: Segment[] = [];
  private writer!: FileHandle;
  private cursorFile!: CursorFile;
  private cursor: SpoolPosition = { seq: 1, offset: 0, consumed: 0 };
  private markers: Marker[] = [];
  private lastMarkerAt = -Infinity;
  private next?: Group;
  private flushing?: Promise<void>;
  private inFlight?: { from: number; to: number };
  private pendingPoints = 0;
  /** Points taken off the front (sent or dropped) since the spool was opened:
   *  the next unsent point has this index, the last one front + pending - 1. */
  private front = 0;
  private readonly sources: AppendTags<SpoolSource>;
  private droppedPoints = 0;
  private closed = false;
  private saving: Promise<void> = Promise.resolve();
  private releaseDir!: () => void;
  private readonly segmentBytes: number;
  private readonly groupMs: number;
  /** When the last write started (performance.now()). */
  private lastWriteAt = -Infinity;
  /** Called whenever points become readable. */
  onData?: () => void;
  /** Called with the number of unsent points dropped to stay under the limit. */
  onDrop?: (points: number) => void;

  private constructor(private readonly options: SpoolOptions) {
    this.segmentBytes =
      options.segmentBytes ??
      Math.min(8 << 20, Math.max(64 << 10, Math.floor(options.maxBytes / 4)));
    this.sources = new AppendTags(options.maxSources);
    this.groupMs = options.groupMs ?? DEFAULT_GROUP_MS;
  }

  static async open(options: SpoolOptions): Promise<Spool> {
    const dir = path.resolve(options.dir);
    // A redeploy closes the old writer before opening the new one: wait for it.
    while (opened.has(dir)) await opened.get(dir);
    let release!: () => void;
    opened.set(dir, new Promise<void>((resolve) => (release = resolve)));
    const spool = new Spool({ ...options, dir });
    spool.releaseDir = () => {
      opened.delete(dir);
      release();
    };
    try {
      await spool.recover();
    } catch (err) {
      await spool.writer?.close().catch(() => undefined);
      await spool.cursorFile?.close().catch(() => undefined);
      await rm(path.join(dir, 'lock'), { force: true }).catch(() => undefined);
      spool.releaseDir();
      throw err;
    }
    return spool;
  }

  /** Points accepted and not yet committed. */
  get pending(): number {
    return this.pendingPoints;
  }

  /** Bytes of the segment files. */
  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** Points dropped by the size limit since this spool was opened. */
  get dropped(): number {
    return this.droppedPoints;
  }

  /** When the oldest unsent point was accepted (to the second), if any. */
  get oldestAt(): number | undefined {
    return this.pendingPoints > 0 ? this.markers[0]?.at : undefined;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Appends points; resolves once they are on disk (fsynced), rejects if not. */
  append(lines: string[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the history spool is closed'));
    if (lines.length === 0) return Promise.resolve();
    const group = this.gather(lines);
    group.done ??= new Promise<void>((resolve, reject) => {
      group.resolve = resolve;
      group.reject = reject;
    });
    return group.done;
  }

  /**
   * Appends points and tells `source` once they are on disk (fsynced), or
   * why not. The source is remembered until the points are sent, for
   * SpoolBatch.sourceOf(). No promise per call: this is the path of every
   * message.
   */
  appendFrom(lines: string[], source: SpoolSource): void {
    if (this.closed) return source.stored(new Error('the history spool is closed'));
    if (lines.length === 0) return source.stored();
    const group = this.gather(lines);
    const end = group.lines.length;
    group.sources.push({ start: end - lines.length, end, source });
  }

  /** Up to `max` points from the oldest unsent one; null when none. */
  async read(max: number): Promise<SpoolBatch | null> {
    if (this.pendingPoints === 0) return null;
    // Nothing from the cursor on may be dropped while it is being read.
    this.inFlight = { from: this.cursor.seq, to: Number.MAX_SAFE_INTEGER };
    const { pieces, count, end } = await readPoints(
      this.options.dir,
      this.segments,
      this.cursor,
      max,
    );
    if (pieces.length === 0) {
      this.inFlight = undefined;
      return null;
    }
    this.inFlight = { from: this.cursor.seq, to: end.seq };
    const body = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
    const first = this.front;
    let lines: string[] | undefined;
    const batch: SpoolBatch = {
      body,
      count,
      end,
      lines: () => (lines ??= pointLines(body)),
      sourceOf: (line) => {
        const index = batch.lines().indexOf(line);
        return index < 0 ? undefined : this.sources.at(first + index);
      },
    };
    return batch;
  }

  /**
   * Marks a batch read with read() as written: it is never sent again. Takes
   * effect at once; the files follow in the background (the returned promise),
   * so the sender need not wait for them: a cursor lost in a crash only
   * resends.
   */
  commit(batch: SpoolBatch): Promise<void> {
    this.inFlight = undefined;
    const end = batch.end;
    // Overflow may have dropped what this batch covered meanwhile.
    if (
      end.seq < this.cursor.seq ||
      (end.seq === this.cursor.seq && end.offset <= this.cursor.offset)
    ) {
      return Promise.resolve();
    }
    this.pendingPoints -= batch.count;
    this.front += batch.count;
    this.sources.release(this.front);
    this.cursor = { ...end };
    const sent = this.segments.filter((s) => s.seq < end.seq);
    for (const segment of sent) this.detachSegment(segment);
    this.trimMarkers();
    return this.saveCursor(async () => {
      for (const segment of sent) await this.deleteSegment(segment);
    });
  }

  /** Gives a batch back unwritten (the write failed); it will be read again. */
  release(): void {
    this.inFlight = undefined;
  }

  /** Waits for pending appends, then closes the files. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.saveCursor().catch(() => undefined);
    await this.cursorFile.close().catch(() => undefined);
    await this.writer.close().catch(() => undefined);
    for (const s of this.segments) await s.reader?.close().catch(() => undefined);
    await rm(path.join(this.options.dir, 'lock'), { force: true });
    this.releaseDir();
  }

  // -------------------------------------------------------------- writing

  /** Adds lines to the group being gathered for the next write. */
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
          let segment = this.segments[this.segments.length - 1];
          if (segment.bytes > 0 && segment.bytes + buf.length > this.segmentBytes) {
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
        await this.enforceLimit();
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
    if (marker) {
      this.markers.push({ seq: segment.seq, offset: before, at: now });
      this.lastMarkerAt = now;
    }
    segment.bytes += buf.length;
    segment.points += group.lines.length;
    const base = this.front + this.pendingPoints;
    for (const { start, end, source } of group.sources) {
      this.sources.add(base + start, base + end, source);
    }
    this.pendingPoints += group.lines.length;
    this.onData?.();
  }

  private async rotate(): Promise<Segment> {
    await this.writer.close();
    const last = this.segments[this.segments.length - 1];
    const segment: Segment = { seq: last.seq + 1, bytes: 0, points: 0 };
    this.writer = await open(this.segmentFile(segment.seq), 'a', 0o600);
    this.segments.push(segment);
    await syncDir(this.options.dir);
    // Every segment starts with a marker, so dropping one never loses the time.
    this.lastMarkerAt = -Infinity;
    return segment;
  }

  /** Oldest-first: drops the oldest segments not being sent until under the limit. */
  private async enforceLimit(): Promise<void> {
    let dropped = 0;
    while (this.bytes > this.options.maxBytes) {
      const writing = this.segments[this.segments.length - 1];
      const victim = this.segments.find(
        (s) =>
          s !== writing &&
          !(this.inFlight && s.seq >= this.inFlight.from && s.seq <= this.inFlight.to),
      );
      if (!victim) {
        // Only the segment being written (and one in flight) is left: close
        // it, so the next append can drop it. The limit is exceeded by at
        // most one segment meanwhile.
        if (writing.bytes > 0 && !this.closed) await this.rotate();
        break;
      }
      const lost =
        victim.seq === this.cursor.seq ? victim.points - this.cursor.consumed : victim.points;
      if (victim.seq >= this.cursor.seq) {
        dropped += lost;
        this.pendingPoints -= lost;
        this.front += lost;
        this.sources.release(this.front);
      }
      if (victim.seq === this.cursor.seq) {
        const next = this.segments[this.segments.indexOf(victim) + 1];
        this.cursor = { seq: next.seq, offset: 0, consumed: 0 };
      }
      await this.removeSegment(victim);
    }
    if (dropped > 0) {
      this.droppedPoints += dropped;
      this.trimMarkers();
      await this.saveCursor();
      this.onDrop?.(dropped);
    }
  }

  // -------------------------------------------------------------- files

  private segmentFile(seq: number): string {
    return segmentFile(this.options.dir, seq);
  }

  private readAt(segment: Segment, offset: number, length: number): Promise<Buffer> {
    return readSegment(this.options.dir, segment, offset, length);
  }

  private async removeSegment(segment: Segment): Promise<void> {
    if (this.detachSegment(segment)) await this.deleteSegment(segment);
  }

  /** Forgets a segment; false when it was already gone. */
  private detachSegment(segment: Segment): boolean {
    const index = this.segments.indexOf(segment);
    if (index < 0) return false;
    this.segments.splice(index, 1);
    this.markers = this.markers.filter((m) => m.seq !== segment.seq);
    return true;
  }

  private async deleteSegment(segment: Segment): Promise<void> {
    await segment.reader?.close().catch(() => undefined);
    await rm(this.segmentFile(segment.seq), { force: true });
  }

  private trimMarkers(): void {
    const { seq, offset } = this.cursor;
    const atOrBefore = (m: Marker) => m.seq < seq || (m.seq === seq && m.offset <= offset);
    while (this.markers.length >= 2 && atOrBefore(this.markers[1])) this.markers.shift();
  }

  /** Saves the cursor after `before` (file work that must come first), one
   *  save at a time, in order (no fsync: a lost cursor only resends). */
  private saveCursor(before?: () => Promise<void>): Promise<void> {
    this.saving = this.saving
      .catch(() => undefined)
      .then(async () => {
        await before?.();
        await this.cursorFile.write(this.cursor.seq, this.cursor.offset);
      });
    return this.saving;
  }

  /** Opens the directory after a clean stop or a crash: locks it, cuts a torn
   *  last line (never acknowledged), counts the unsent points. */
  private async recover(): Promise<void> {
    const dir = this.options.dir;
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    await lock(dir);
    const cursorFile = path.join(dir, 'cursor.json');
    const saved = await readCursor(cursorFile);
    ({ segments: this.segments, markers: this.markers } = await scanSegments(dir, saved?.seq));
    const first = this.segments[0];
    if (saved && first && first.seq === saved.seq) {
      const offset = Math.min(saved.offset, first.bytes);
      const head = await this.readAt(first, 0, offset);
      this.cursor = { seq: first.seq, offset, consumed: scanLines(head, Infinity).points };
    } else {
      this.cursor = { seq: first?.seq ?? 1, offset: 0, consumed: 0 };
    }
    this.pendingPoints = this.segments.reduce((sum, s) => sum + s.points, 0) - this.cursor.consumed;
    this.trimMarkers();
    const last = this.segments[this.segments.length - 1];
    if (last && last.bytes < this.segmentBytes) {
      this.writer = await open(this.segmentFile(last.seq), 'a', 0o600);
    } else {
      const segment: Segment = { seq: (last?.seq ?? 0) + 1, bytes: 0, points: 0 };
      this.writer = await open(this.segmentFile(segment.seq), 'a', 0o600);
      this.segments.push(segment);
      await syncDir(dir);
    }
    this.cursorFile = await CursorFile.open(cursorFile);
    await this.saveCursor();
    await this.enforceLimit();
  }
}

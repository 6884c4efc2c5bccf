// The bounded on-disk spool behind every history writer: a write-ahead log of
// line protocol in append-only segment files. A point is acknowledged only
// once the write holding it has been fsynced, so it survives an InfluxDB
// outage and a crash (kill -9) of Sensflow. The sender reads batches from the
// oldest unsent point and commits them once written; a commit that is lost in
// a crash only means a batch is sent again, which InfluxDB absorbs (a point
// with the same series and time overwrites itself). When the files exceed
// the size limit, the oldest segments are dropped and the points counted.
// Appends that arrive together share one write and one fsync: the group
// commit of spool-group.ts, which writes them to the last segment.
//
// Layout of the directory: `0000000001.lp`, `0000000002.lp`, … (segments),
// `cursor.json` (first unsent byte), `lock` (the owning process id). Each
// segment is line protocol; `#t <ms>` comment lines (InfluxDB skips them)
// record when the points after them were accepted, at most once a second.
import fs from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Clock } from '../util/clock';
import { CursorFile, lock, pointLines, readCursor } from './spool-files';
import { GroupCommit, GroupLines, SpoolSource } from './spool-group';
import {
  Marker,
  readPoints,
  resumeAt,
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
export type { SpoolSource } from './spool-group';

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

const opened = new Map<string, Promise<void>>();

export class Spool {
  private segments: Segment[] = [];
  private cursorFile!: CursorFile;
  private cursor: SpoolPosition = { seq: 1, offset: 0, consumed: 0 };
  private markers: Marker[] = [];
  private readonly groups: GroupCommit;
  private inFlight?: { from: number; to: number };
  private pendingPoints = 0;
  /** Points taken off the front (sent or dropped) since the spool was opened:
   *  the next unsent point has this index, the last one front + pending - 1. */
  private front = 0;
  private readonly sources: AppendTags<SpoolSource>;
  private droppedPoints = 0;
  private closed = false;
  /** This spool holds the folder's lock file. */
  private locked = false;
  private saving: Promise<void> = Promise.resolve();
  private releaseDir!: () => void;
  /** Called whenever points become readable. */
  onData?: () => void;
  /** Called with the number of unsent points dropped to stay under the limit. */
  onDrop?: (points: number) => void;
  /** Called when staying under the limit failed after a write (a segment
   *  file that could not be deleted, say). */
  onLimitError?: (err: unknown) => void;

  private constructor(private readonly options: SpoolOptions) {
    this.sources = new AppendTags(options.maxSources);
    this.groups = new GroupCommit({
      dir: options.dir,
      segmentBytes:
        options.segmentBytes ??
        Math.min(8 << 20, Math.max(64 << 10, Math.floor(options.maxBytes / 4))),
      groupMs: options.groupMs,
      clock: options.clock,
      target: {
        segments: () => this.segments,
        appended: (group, marker) => this.appended(group, marker),
        // The group is stored whatever happens here; a segment that could
        // not be deleted is tried again after the next write.
        written: () => this.enforceLimit().catch((err: unknown) => this.onLimitError?.(err)),
      },
    });
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
      await spool.groups.close().catch(() => undefined);
      await spool.cursorFile?.close().catch(() => undefined);
      // Only a lock this open took: one refused belongs to a live process.
      if (spool.locked) await rm(path.join(dir, 'lock'), { force: true }).catch(() => undefined);
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
    return this.groups.append(lines);
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
    this.groups.appendFrom(lines, source);
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
    await this.groups.idle();
    await this.saveCursor().catch(() => undefined);
    await this.cursorFile.close().catch(() => undefined);
    await this.groups.close().catch(() => undefined);
    for (const s of this.segments) await s.reader?.close().catch(() => undefined);
    try {
      await rm(path.join(this.options.dir, 'lock'), { force: true });
    } finally {
      // Else a later open of the same folder in this process would wait forever.
      this.releaseDir();
    }
  }

  // ------------------------------------------------- appends and the limit

  /** A group is written: its points are readable, and counted. */
  private appended(group: GroupLines, marker: Marker | undefined): void {
    if (marker) this.markers.push(marker);
    const base = this.front + this.pendingPoints;
    for (const { start, end, source } of group.sources) {
      this.sources.add(base + start, base + end, source);
    }
    this.pendingPoints += group.lines.length;
    this.onData?.();
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
        if (writing.bytes > 0 && !this.closed) await this.groups.rotate();
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
    await rm(segmentFile(this.options.dir, segment.seq), { force: true });
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
    this.locked = true;
    const cursorFile = path.join(dir, 'cursor.json');
    const saved = await readCursor(cursorFile);
    ({ segments: this.segments, markers: this.markers } = await scanSegments(dir, saved?.seq));
    this.cursor = await resumeAt(dir, this.segments, saved);
    this.pendingPoints = this.segments.reduce((sum, s) => sum + s.points, 0) - this.cursor.consumed;
    this.trimMarkers();
    await this.groups.openLast();
    this.cursorFile = await CursorFile.open(cursorFile);
    await this.saveCursor();
    await this.enforceLimit();
  }
}

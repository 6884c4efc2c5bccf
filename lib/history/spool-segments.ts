// The segment files of a history spool (spool.ts): their names, reading a
// range of one, and the scan at open that finds them, cuts a torn last line
// (a write cut short by a crash, never acknowledged), counts their points
// and time markers, and finds where sending resumes.
import { FileHandle, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { HASH, NEWLINE, scanLines, truncateFile } from './spool-files';

/** A place in the spool: a byte of a segment. */
export interface SpoolPosition {
  seq: number;
  offset: number;
  /** Points of segment `seq` before `offset`. */
  consumed: number;
}

export interface Segment {
  seq: number;
  bytes: number;
  points: number;
  reader?: FileHandle;
}

/** A `#t <ms>` line: the points after it were accepted at `at`. */
export interface Marker {
  seq: number;
  offset: number;
  at: number;
}

export function segmentFile(dir: string, seq: number): string {
  return path.join(dir, `${String(seq).padStart(10, '0')}.lp`);
}

/** Up to `length` bytes of a segment from `offset` (fewer at its end). */
export async function readSegment(
  dir: string,
  segment: Segment,
  offset: number,
  length: number,
): Promise<Buffer> {
  segment.reader ??= await open(segmentFile(dir, segment.seq), 'r');
  const buf = Buffer.allocUnsafe(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await segment.reader.read(buf, read, length - read, offset + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return buf.subarray(0, read);
}

/**
 * The whole lines holding up to `max` points from `from` on, across
 * segments (`#t` comments included), and the position after them.
 */
export async function readPoints(
  dir: string,
  segments: readonly Segment[],
  from: SpoolPosition,
  max: number,
): Promise<{ pieces: Buffer[]; count: number; end: SpoolPosition }> {
  const pieces: Buffer[] = [];
  let count = 0;
  let { seq, offset, consumed } = from;
  while (count < max) {
    const index = segments.findIndex((s) => s.seq >= seq);
    if (index < 0) break;
    const segment = segments[index];
    if (segment.seq !== seq)
      ({ seq, offset, consumed } = { seq: segment.seq, offset: 0, consumed: 0 });
    if (offset >= segment.bytes) {
      if (index === segments.length - 1) break;
      ({ seq, offset, consumed } = { seq: segments[index + 1].seq, offset: 0, consumed: 0 });
      continue;
    }
    // Read about as many bytes as the wanted points take, from the average line.
    const average = segment.points > 0 ? segment.bytes / segment.points : 128;
    let want = Math.min(segment.bytes - offset, Math.ceil(average * (max - count) * 1.1) + 4096);
    let buf: Buffer;
    let taken: number;
    let points: number;
    for (;;) {
      buf = await readSegment(dir, segment, offset, want);
      ({ taken, points } = scanLines(buf, max - count));
      if (taken > 0 || want >= segment.bytes - offset) break;
      want *= 2; // a line longer than the guess
    }
    if (taken === 0) throw new Error(`history spool segment ${seq} ends without a newline`);
    pieces.push(buf.subarray(0, taken));
    offset += taken;
    count += points;
    consumed += points;
  }
  return { pieces, count, end: { seq, offset, consumed } };
}

/**
 * The segments of a spool directory, oldest first, with their markers.
 * Segments before `firstKept` (all sent, their removal cut short) are
 * deleted.
 */
export async function scanSegments(
  dir: string,
  firstKept?: number,
): Promise<{ segments: Segment[]; markers: Marker[] }> {
  const segments: Segment[] = [];
  const markers: Marker[] = [];
  const seqs = (await readdir(dir))
    .map((name) => /^(\d{10})\.lp$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  for (const seq of seqs) {
    const file = segmentFile(dir, seq);
    if (firstKept !== undefined && seq < firstKept) {
      await rm(file, { force: true });
      continue;
    }
    const data = await readFile(file);
    const end = data.lastIndexOf(NEWLINE) + 1;
    if (end < data.length) await truncateFile(file, end);
    const segment: Segment = { seq, bytes: end, points: 0 };
    let start = 0;
    while (start < end) {
      const nl = data.indexOf(NEWLINE, start);
      if (data[start] === HASH) {
        const at = Number(/^#t (\d+)/.exec(data.toString('utf8', start, nl))?.[1]);
        if (Number.isFinite(at)) markers.push({ seq, offset: start, at });
      } else if (nl > start) segment.points += 1;
      start = nl + 1;
    }
    segments.push(segment);
  }
  return { segments, markers };
}

/**
 * Where sending resumes at open: at the saved cursor (cursor.json) when it
 * is in the first segment, else at the start of the first segment.
 */
export async function resumeAt(
  dir: string,
  segments: readonly Segment[],
  saved: { seq: number; offset: number } | undefined,
): Promise<SpoolPosition> {
  const first = segments[0];
  if (!saved || !first || first.seq !== saved.seq) {
    return { seq: first?.seq ?? 1, offset: 0, consumed: 0 };
  }
  const offset = Math.min(saved.offset, first.bytes);
  const head = await readSegment(dir, first, 0, offset);
  return { seq: first.seq, offset, consumed: scanLines(head, Infinity).points };
}

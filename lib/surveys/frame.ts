// The TCP protocol between the smart-meter gateway and the cloud. Text
// headers, one per line, so a session reads well in a packet capture:
//
//   gateway → cloud   BATCH <id> <receivedAt> <bytes>\n<body>
//   cloud → gateway   Surveys received <id>\n
//                     Surveys refused <id> <reason>\n
//                     ERROR <reason>\n            (then the cloud hangs up)
//
// The body is the batch's survey lines, each ending with \n, exactly <bytes>
// long: a batch ends where its length says, whatever its lines hold, and a
// batch cut short by a dropped connection is never taken for a whole one.
// The cloud confirms by id, so the gateway may send a batch again after a
// lost confirmation and the cloud keeps it once.
import { BATCH_ID } from './batch';

export const MAX_HEADER_BYTES = 256;
export const MAX_BODY_BYTES = 1 << 20;
const NEWLINE = 0x0a;

export type Frame =
  | { kind: 'batch'; id: string; receivedAt: number; body: Buffer }
  | { kind: 'received'; id: string }
  | { kind: 'refused'; id: string; reason: string }
  | { kind: 'error'; reason: string };

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** The first frame of `buf` and its size in bytes, or null when more bytes are needed. */
export function decode(buf: Buffer): { frame: Frame; size: number } | null {
  const nl = buf.indexOf(NEWLINE);
  if (nl < 0) {
    if (buf.length > MAX_HEADER_BYTES)
      throw new FrameError(`header longer than ${MAX_HEADER_BYTES} bytes`);
    return null;
  }
  if (nl > MAX_HEADER_BYTES) throw new FrameError(`header longer than ${MAX_HEADER_BYTES} bytes`);
  const header = buf.toString('utf8', 0, nl).replace(/\r$/, '');
  const headerSize = nl + 1;

  if (header.startsWith('BATCH ')) {
    const [, id, at, bytes, ...extra] = header.split(' ');
    if (extra.length > 0 || bytes === undefined)
      throw new FrameError(`bad BATCH header "${header}"`);
    batchId(id);
    if (!/^\d{1,15}$/.test(at)) throw new FrameError(`bad time "${at}" in BATCH header`);
    if (!/^\d{1,8}$/.test(bytes)) throw new FrameError(`bad length "${bytes}" in BATCH header`);
    const length = Number(bytes);
    if (length > MAX_BODY_BYTES)
      throw new FrameError(`batch of ${length} bytes is over ${MAX_BODY_BYTES}`);
    if (buf.length < headerSize + length) return null;
    const body = Buffer.from(buf.subarray(headerSize, headerSize + length));
    return {
      frame: { kind: 'batch', id, receivedAt: Number(at), body },
      size: headerSize + length,
    };
  }
  if (header.startsWith('Surveys received ')) {
    const id = header.slice('Surveys received '.length);
    return { frame: { kind: 'received', id: batchId(id) }, size: headerSize };
  }
  if (header.startsWith('Surveys refused ')) {
    const rest = header.slice('Surveys refused '.length);
    const space = rest.indexOf(' ');
    const id = space < 0 ? rest : rest.slice(0, space);
    const reason = space < 0 ? 'no reason given' : rest.slice(space + 1);
    return { frame: { kind: 'refused', id: batchId(id), reason }, size: headerSize };
  }
  if (header.startsWith('ERROR ')) {
    return { frame: { kind: 'error', reason: header.slice('ERROR '.length) }, size: headerSize };
  }
  throw new FrameError(`unknown frame "${header.slice(0, 40)}"`);
}

export function encode(frame: Frame): Buffer {
  switch (frame.kind) {
    case 'batch': {
      batchId(frame.id);
      if (!Number.isSafeInteger(frame.receivedAt) || frame.receivedAt < 0) {
        throw new FrameError(`bad time ${frame.receivedAt}`);
      }
      if (frame.body.length > MAX_BODY_BYTES) {
        throw new FrameError(`batch of ${frame.body.length} bytes is over ${MAX_BODY_BYTES}`);
      }
      const header = Buffer.from(`BATCH ${frame.id} ${frame.receivedAt} ${frame.body.length}\n`);
      return Buffer.concat([header, frame.body]);
    }
    case 'received':
      return Buffer.from(`Surveys received ${batchId(frame.id)}\n`);
    case 'refused':
      return Buffer.from(`Surveys refused ${batchId(frame.id)} ${oneLine(frame.reason)}\n`);
    case 'error':
      return Buffer.from(`ERROR ${oneLine(frame.reason)}\n`);
  }
}

/** Buffers a connection's bytes and hands out whole frames. */
export class Framer {
  private pending: Buffer = Buffer.alloc(0);

  /** The frames completed by `chunk`; throws FrameError on bytes that are no frame
   *  (the connection is then beyond repair and should be closed). */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      const decoded = decode(this.pending);
      if (!decoded) break;
      frames.push(decoded.frame);
      this.pending = this.pending.subarray(decoded.size);
    }
    return frames;
  }

  /** Bytes received that do not make a whole frame yet. */
  get buffered(): number {
    return this.pending.length;
  }
}

function batchId(id: string | undefined): string {
  if (id === undefined || !BATCH_ID.test(id)) throw new FrameError(`bad batch id "${id ?? ''}"`);
  return id;
}

/** A reason as one short line of printable ASCII, so a header stays under its limit. */
function oneLine(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 150);
}

// Cuts a byte stream into frames: accepts chunks of any size, yields each
// complete frame (EOT included), and never holds more than the maximum frame
// size. A frame that would exceed it puts the framer in the `overflow` state,
// where it drops everything: the connection is to be closed.
import { DEFAULT_MAX_FRAME_BYTES, EOT } from './constants';

export class Framer {
  private parts: Buffer[] = [];
  private size = 0;
  private overflowed = false;

  constructor(readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 2)
      throw new Error('the maximum frame size must be at least 2 bytes');
  }

  /** Bytes held of an incomplete frame (always below the maximum). */
  get buffered(): number {
    return this.size;
  }

  get overflow(): boolean {
    return this.overflowed;
  }

  /**
   * Feeds a chunk; calls `onFrame` for every complete frame in order. `onFrame`
   * returns false to stop (the rest is dropped). Returns false once a frame was
   * too large.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => boolean | void): boolean {
    if (this.overflowed) return false;
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(EOT, start);
      if (end === -1) break;
      if (this.size + (end - start) + 1 > this.maxFrameBytes) return this.fail();
      let frame = chunk.subarray(start, end + 1);
      if (this.size > 0) {
        frame = Buffer.concat([...this.parts, frame], this.size + frame.length);
        this.parts = [];
        this.size = 0;
      }
      start = end + 1;
      if (onFrame(frame) === false) {
        this.reset();
        return true;
      }
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      // Without its EOT yet, the frame must still leave room for it.
      if (this.size + rest >= this.maxFrameBytes) return this.fail();
      // A copy, so a small remainder does not pin the socket's whole chunk.
      this.parts.push(Buffer.from(chunk.subarray(start)));
      this.size += rest;
    }
    return true;
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
  }

  private fail(): false {
    this.reset();
    this.overflowed = true;
    return false;
  }
}

// Which message a written point came from, for the last few thousand points:
// when the backend refuses a point after its message was acknowledged, the
// error still reaches that message's Catch nodes. Recording is O(1) per
// message (a ring of batches); finding, which happens only for refused
// points, scans it.

export class RecentOrigins<T> {
  private entries: Array<{ lines: string[]; origin: T }> = [];
  private held = 0;

  /** `limit`: how many points to remember. */
  constructor(private readonly limit = 20_000) {}

  add(lines: string[], origin: T): void {
    this.entries.push({ lines, origin });
    this.held += lines.length;
    while (this.held > this.limit && this.entries.length > 1) {
      this.held -= this.entries.shift()!.lines.length;
    }
  }

  /** The origin of `line`, newest first, if still remembered. */
  find(line: string): T | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].lines.includes(line)) return this.entries[i].origin;
    }
    return undefined;
  }
}

// Which message a written point came from, for the last few thousand points:
// when the backend refuses a point after its message was acknowledged, the
// error still reaches that message's Catch nodes. Recording is O(1) per
// message (a ring of batches); finding, which happens only for refused
// points, scans it.

interface Entry<T> {
  lines: string[];
  origin: T;
}

export class RecentOrigins<T> {
  private ring: Array<Entry<T> | undefined> = [];
  private head = 0;

  /** `limit`: how many messages to remember. */
  constructor(private readonly limit = 20_000) {
    this.ring = new Array<Entry<T> | undefined>(limit).fill(undefined);
  }

  add(lines: string[], origin: T): void {
    // One slot per message; a full ring overwrites the oldest message.
    this.ring[this.head] = { lines, origin };
    this.head = (this.head + 1) % this.limit;
  }

  /** The origin of `line`, newest first, if still remembered. */
  find(line: string): T | undefined {
    for (let k = 1; k <= this.limit; k++) {
      const entry = this.ring[(this.head - k + this.limit) % this.limit];
      if (!entry) return undefined;
      if (entry.lines.includes(line)) return entry.origin;
    }
    return undefined;
  }
}

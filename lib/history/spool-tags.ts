// What the history spool remembers about the points it holds: the source of
// each append (the message the points came from), until the points are
// sent, so a point the backend refuses later can be traced to its message.
// Points are numbered in spool order from the spool's opening; a bounded queue.

/** Appends remembered at most; beyond it the oldest are forgotten. */
export const DEFAULT_MAX_TAGS = 20_000;

interface Entry<T> {
  /** Index of the first point of the append. */
  start: number;
  /** Index after its last point. */
  end: number;
  tag: T;
}

export class AppendTags<T> {
  private entries: Array<Entry<T>> = [];
  private head = 0;

  constructor(private readonly limit = DEFAULT_MAX_TAGS) {}

  /** Remembers `tag` for the points `start` to `end - 1`, after those already held. */
  add(start: number, end: number, tag: T): void {
    this.entries.push({ start, end, tag });
    if (this.entries.length - this.head > this.limit) this.forget(this.head + 1);
  }

  /** Forgets the tags of points before `index` (sent, or dropped). */
  release(index: number): void {
    let head = this.head;
    while (head < this.entries.length && this.entries[head].end <= index) head++;
    if (head > this.head) this.forget(head);
  }

  /** The tag of the point `index`, if remembered. */
  at(index: number): T | undefined {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.entries[mid].end <= index) low = mid + 1;
      else high = mid;
    }
    const entry = this.entries[low];
    return entry && entry.start <= index ? entry.tag : undefined;
  }

  private forget(head: number): void {
    // Dead slots are cleared (their tags may hold whole messages) and
    // compacted away now and then, never one by one.
    this.entries.fill(undefined as unknown as Entry<T>, this.head, head);
    this.head = head;
    if (head > 1024 && head * 2 > this.entries.length) {
      this.entries = this.entries.slice(head);
      this.head = 0;
    }
  }
}

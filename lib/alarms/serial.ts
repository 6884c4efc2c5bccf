// Runs tasks one after another, without a promise when nothing is waiting: a
// task that finishes synchronously costs a function call, and only once one
// has to wait (a registry lookup) do the next ones queue behind it, so
// readings are always handled in the order they came.
export class Serial {
  private tail?: Promise<unknown>;
  private pending = 0;

  /** Whether a task is still waiting (a new one would queue behind it). */
  get busy(): boolean {
    return this.pending > 0;
  }

  run<T>(task: () => T | Promise<T>): T | Promise<T> {
    if (this.pending === 0) {
      const result = task();
      return result instanceof Promise ? this.track(result) : result;
    }
    return this.track(this.tail!.then(task));
  }

  /** Resolves when every task so far has finished. */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending++;
    const tracked = promise.finally(() => this.pending--);
    this.tail = tracked.catch(() => undefined);
    return tracked;
  }
}

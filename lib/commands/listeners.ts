// One echo subscription per target however many commands wait on it: the
// first command to a target starts listening, the last one to end stops it.
import { errorMessage, Logger } from '../util/log';
import type { CommandTransport } from './transport';
import { CommandTarget, Incoming, targetKey } from './types';

export class TargetListeners {
  private readonly entries = new Map<string, { stop: Promise<() => void>; users: number }>();

  constructor(
    private readonly transport: CommandTransport,
    private readonly onMessage: (key: string, message: Incoming) => void,
    private readonly logger: Logger,
  ) {}

  /** Listens at `target` (resolving once in place) for one more command. */
  async add(target: CommandTarget): Promise<void> {
    const key = targetKey(target);
    let entry = this.entries.get(key);
    if (!entry) {
      const stop = this.transport.listen(target, (m) => this.onMessage(key, m));
      entry = { stop, users: 0 };
      this.entries.set(key, entry);
      stop.catch(() => this.entries.delete(key));
    }
    entry.users += 1;
    try {
      await entry.stop;
    } catch (err) {
      // Sending anyway is better than not: unheard answers end in a timeout.
      this.logger.warn(`cannot listen for answers at ${key}: ${errorMessage(err)}`);
    }
  }

  /** One command fewer at `target`; the last one stops listening. */
  remove(target: CommandTarget): void {
    const key = targetKey(target);
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    this.entries.delete(key);
    entry.stop.then(
      (stop) => stop(),
      () => undefined,
    );
  }

  async closeAll(): Promise<void> {
    const stops = [...this.entries.values()].map((e) => e.stop);
    this.entries.clear();
    for (const stop of await Promise.allSettled(stops)) {
      if (stop.status === 'fulfilled') stop.value();
    }
  }
}

// Watches devices' signs of life and says when one goes silent for longer
// than its threshold (its own, its type's, or 30 min), with one exact timer
// per device (not a periodic sweep). Events:
//   online   - a device never seen before gave a first sign of life
//   outdated - silent past its threshold; repeated every `repeatMs` as a reminder
//   back     - an outdated device was seen again
// A timer that fires re-reads the device first, so a sign of life recorded by
// another process or instance counts. After a restart the state is rebuilt
// from last_seen: a device already outdated stays outdated (no new event,
// reminders keep their schedule) and comes "back" when seen.
//
// With several instances, each device has one owner among them (`owner`):
// only it emits the device's events. Others park a device's timer when it
// fires; when the owner is lost, the new owner takes its parked devices on
// (one that went outdated while the old owner lived stays quiet, as after a
// restart) and, as signs of life may be recorded by any instance, it reads
// the last_seen of its silent devices every `recheckMs`.
import type { Clock, TimerHandle } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import type { DeviceChange } from './directory';
import type { DeviceRecord } from './records';

export type WatchdogState = 'online' | 'outdated' | 'back';

export interface WatchdogEvent {
  deviceId: string;
  state: WatchdogState;
  /** Epoch ms of the last sign of life, or null. */
  lastSeen: number | null;
  /** For reminders: how many came before this one since it went outdated (1, 2, …). */
  repeat?: number;
}

/** What the watchdog needs of the registry. */
export interface WatchdogSource {
  listDevices(filter: {
    enabled?: boolean;
    limit?: number;
    offset?: number;
  }): Promise<{ items: DeviceRecord[]; total: number }>;
  getDevice(id: string): Promise<DeviceRecord | null>;
  watch(listener: (change: DeviceChange) => void): () => void;
  watchSeen(listener: (id: string, at: number) => void): () => void;
  /** last_seen of many devices at once (for the owner's recheck). */
  lastSeenOf?(ids: string[]): Promise<Map<string, number | null>>;
}

/** Who owns which device's timer, when several instances watch the same devices. */
export interface WatchdogOwnership {
  owns(deviceId: string): boolean;
  /** Calls `listener` when the set of instances changes; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  /** A device due longer ago than this when taken over was the old owner's to announce. */
  handoverMs: number;
  /** How often the owner reads the last_seen of its outdated and never-seen devices. */
  recheckMs: number;
}

export interface WatchdogOptions {
  source: WatchdogSource;
  clock: Clock;
  emit: (event: WatchdogEvent) => void;
  /** Reminder interval while a device stays outdated; 0: no reminders. */
  repeatMs?: number;
  logger?: Logger;
  ownership?: WatchdogOwnership;
}

interface Watched {
  lastSeen: number | null;
  thresholdMs: number;
  outdated: boolean;
  timer?: TimerHandle;
  /** Its timer fired on an instance that does not own it. */
  parked?: boolean;
}

export class DeviceWatchdog {
  private readonly watched = new Map<string, Watched>();
  private readonly unsubscribe: Array<() => void> = [];
  private stopped = false;
  private recheckTimer?: TimerHandle;

  constructor(private readonly options: WatchdogOptions) {}

  async start(): Promise<void> {
    const { source } = this.options;
    this.unsubscribe.push(
      source.watch((change) => this.guard(this.onChange(change))),
      source.watchSeen((id, at) => this.seen(id, at)),
    );
    const ownership = this.options.ownership;
    if (ownership) {
      this.unsubscribe.push(ownership.onChange(() => this.reconsider()));
      this.scheduleRecheck();
    }
    for (let offset = 0; ; offset += 1000) {
      const page = await source.listDevices({ enabled: true, limit: 1000, offset });
      for (const device of page.items) this.track(device, false);
      if (page.items.length === 0 || offset + page.items.length >= page.total) break;
    }
  }

  /** The state of a watched device: unknown (never seen), online or outdated. */
  stateOf(id: string): 'unknown' | 'online' | 'outdated' | undefined {
    const w = this.watched.get(id);
    if (!w) return undefined;
    return w.lastSeen === null ? 'unknown' : w.outdated ? 'outdated' : 'online';
  }

  /** How many watched devices are online and outdated (for a status line). */
  counts(): { online: number; outdated: number } {
    let online = 0;
    let outdated = 0;
    for (const w of this.watched.values()) {
      if (w.outdated) outdated++;
      else if (w.lastSeen !== null) online++;
    }
    return { online, outdated };
  }

  stop(): void {
    this.stopped = true;
    this.options.clock.clearTimeout(this.recheckTimer);
    for (const off of this.unsubscribe.splice(0)) off();
    for (const w of this.watched.values()) this.options.clock.clearTimeout(w.timer);
    this.watched.clear();
  }

  // ---------------------------------------------------------------- events

  /** A sign of life recorded in this process (or read by the owner's recheck). */
  private seen(id: string, at: number): void {
    const w = this.watched.get(id);
    if (!w || (w.lastSeen !== null && at <= w.lastSeen)) return;
    const first = w.lastSeen === null;
    const wasOutdated = w.outdated;
    w.lastSeen = at;
    w.outdated = false;
    w.parked = false;
    if (this.owns(id)) {
      if (wasOutdated) this.emit(id, 'back', w);
      else if (first) this.emit(id, 'online', w);
    }
    this.schedule(id, w);
  }

  private owns(id: string): boolean {
    return this.options.ownership?.owns(id) ?? true;
  }

  /** The instances changed: this one takes on the parked devices it owns now. */
  private reconsider(): void {
    const ownership = this.options.ownership!;
    const now = this.options.clock.now();
    for (const [id, w] of this.watched) {
      if (!w.parked || !this.owns(id)) continue;
      w.parked = false;
      const due = (w.lastSeen ?? 0) + w.thresholdMs;
      if (due < now - ownership.handoverMs) {
        // It went outdated while its old owner lived: announced there.
        w.outdated = true;
        this.scheduleReminder(id, w, now);
      } else {
        this.expireOrRetry(id, w);
      }
    }
  }

  private scheduleRecheck(): void {
    if (this.stopped) return;
    this.recheckTimer = this.options.clock.setTimeout(() => {
      this.guard(this.recheck().finally(() => this.scheduleRecheck()));
    }, this.options.ownership!.recheckMs);
  }

  /** Signs of life recorded by other instances, for the silent devices this one owns. */
  private async recheck(): Promise<void> {
    const read = this.options.source.lastSeenOf;
    if (!read) return;
    const silent = [...this.watched]
      .filter(([id, w]) => (w.outdated || w.lastSeen === null) && this.owns(id))
      .map(([id]) => id);
    if (silent.length === 0) return;
    const seen = await read.call(this.options.source, silent);
    for (const [id, at] of seen) if (at !== null) this.seen(id, at);
  }

  private async onChange(change: DeviceChange): Promise<void> {
    if (change.kind === 'removed' || change.kind === 'disabled')
      return this.untrack(change.deviceId);
    if (change.kind === 'credentials') return;
    const device = await this.options.source.getDevice(change.deviceId);
    if (!device || !device.enabled) return this.untrack(change.deviceId);
    this.track(device, true);
  }

  /** Starts (or refreshes) watching a device. */
  private track(device: DeviceRecord, announce: boolean): void {
    const previous = this.watched.get(device.id);
    if (previous) this.options.clock.clearTimeout(previous.timer);
    const lastSeen = Math.max(device.lastSeen ?? -1, previous?.lastSeen ?? -1);
    const w: Watched = {
      lastSeen: lastSeen < 0 ? null : lastSeen,
      thresholdMs: device.outdatedAfterMs,
      outdated: false,
    };
    this.watched.set(device.id, w);
    if (w.lastSeen === null) return;
    const now = this.options.clock.now();
    if (now < w.lastSeen + w.thresholdMs) {
      if (announce && previous?.outdated) this.emit(device.id, 'back', w);
      this.schedule(device.id, w);
      return;
    }
    w.outdated = true;
    // Already silent too long: say so if it was not known to be (a new
    // threshold, a device enabled again); after a restart, stay quiet.
    if (announce && !previous?.outdated) this.emit(device.id, 'outdated', w);
    this.scheduleReminder(device.id, w, now);
  }

  private untrack(id: string): void {
    const w = this.watched.get(id);
    if (w) this.options.clock.clearTimeout(w.timer);
    this.watched.delete(id);
  }

  // ---------------------------------------------------------------- timers

  private schedule(id: string, w: Watched): void {
    this.options.clock.clearTimeout(w.timer);
    const due = (w.lastSeen ?? 0) + w.thresholdMs - this.options.clock.now();
    w.timer = this.options.clock.setTimeout(() => this.expireOrRetry(id, w), due);
  }

  /** A store that cannot be read now must not lose the timer: retry in a minute. */
  private expireOrRetry(id: string, w: Watched): void {
    this.expire(id, w).catch((err: unknown) => {
      this.options.logger?.warn(`device watchdog: ${id}: ${errorMessage(err)}; retrying`);
      if (this.watched.get(id) === w)
        w.timer = this.options.clock.setTimeout(() => this.expireOrRetry(id, w), 60_000);
    });
  }

  /** The next reminder on the schedule outdatedAt + k × repeat, after `now`. */
  private scheduleReminder(id: string, w: Watched, now: number): void {
    const repeat = this.options.repeatMs ?? 0;
    this.options.clock.clearTimeout(w.timer);
    w.timer = undefined;
    if (repeat <= 0) return;
    const outdatedAt = (w.lastSeen ?? 0) + w.thresholdMs;
    const k = Math.floor((now - outdatedAt) / repeat) + 1;
    w.timer = this.options.clock.setTimeout(
      () => this.guard(this.remind(id, w, k)),
      outdatedAt + k * repeat - now,
    );
  }

  private async expire(id: string, w: Watched): Promise<void> {
    if (!this.owns(id)) {
      w.parked = true;
      return;
    }
    // Another process may have seen it meanwhile: the store says.
    const fresh = await this.options.source.getDevice(id);
    if (this.watched.get(id) !== w) return;
    if (fresh?.lastSeen != null && fresh.lastSeen > (w.lastSeen ?? -1)) {
      w.lastSeen = fresh.lastSeen;
      return this.schedule(id, w);
    }
    w.outdated = true;
    this.emit(id, 'outdated', w);
    this.scheduleReminder(id, w, this.options.clock.now());
  }

  private async remind(id: string, w: Watched, repeat: number): Promise<void> {
    if (!this.owns(id)) {
      w.parked = true;
      return;
    }
    const fresh = await this.options.source.getDevice(id);
    if (this.watched.get(id) !== w || !w.outdated) return;
    if (fresh?.lastSeen != null && fresh.lastSeen > (w.lastSeen ?? -1))
      return this.seen(id, fresh.lastSeen);
    this.emit(id, 'outdated', w, repeat);
    this.scheduleReminder(id, w, this.options.clock.now());
  }

  private emit(deviceId: string, state: WatchdogState, w: Watched, repeat?: number): void {
    if (this.stopped) return;
    const event: WatchdogEvent = { deviceId, state, lastSeen: w.lastSeen };
    if (repeat !== undefined) event.repeat = repeat;
    this.options.emit(event);
  }

  private guard(work: Promise<void>): void {
    work.catch((err: unknown) =>
      this.options.logger?.warn(`device watchdog: ${errorMessage(err)}`),
    );
  }
}

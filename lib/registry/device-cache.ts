// The registry's answers for readings, cached: a device by id and the devices
// at a base topic. A reading from a known device then costs no query. Every
// change the registry's feed announces (API, CLI, other processes) empties
// the affected entries, so an edit is seen by the next reading; an entry
// older than `maxAgeMs` is read again, which bounds how old a cached
// device's `lastSeen` and `lastStatus` (not announced as changes) can be.
import { Clock, systemClock } from '../util/clock';
import type { DeviceDirectory, DeviceInfo } from './directory';

const LIMIT = 50_000;

export interface DeviceCacheOptions {
  clock?: Clock;
  /** Entries older than this are read again; unlimited when absent. */
  maxAgeMs?: number;
}

interface Entry<T> {
  value: T;
  at: number;
}

export class DeviceCache implements Pick<DeviceDirectory, 'findDevice' | 'devicesAt'> {
  private readonly byId = new Map<string, Entry<DeviceInfo | null>>();
  private readonly byLocation = new Map<string, Entry<DeviceInfo[]>>();
  private readonly clock: Clock;
  private readonly maxAgeMs: number;
  private readonly unwatch: () => void;
  /** Counts changes, so an answer read across a change is not kept. */
  private generation = 0;

  constructor(
    private readonly directory: DeviceDirectory,
    options: DeviceCacheOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxAgeMs = options.maxAgeMs ?? Infinity;
    this.unwatch = directory.watch((change) => {
      this.generation++;
      this.byId.delete(change.deviceId);
      // A device may have moved in or out of any location.
      this.byLocation.clear();
    });
  }

  /** The cached device, or undefined when the registry must be asked. */
  knownDevice(id: string): DeviceInfo | null | undefined {
    return this.fresh(this.byId.get(id));
  }

  /** The cached devices at a location, or undefined when the registry must be asked. */
  knownAt(location: string): DeviceInfo[] | undefined {
    return this.fresh(this.byLocation.get(location));
  }

  async findDevice(id: string): Promise<DeviceInfo | null> {
    const known = this.knownDevice(id);
    if (known !== undefined) return known;
    const at = this.clock.now();
    const generation = this.generation;
    const found = await this.directory.findDevice(id);
    if (generation === this.generation) put(this.byId, id, { value: found, at });
    return found;
  }

  async devicesAt(location: string): Promise<DeviceInfo[]> {
    const known = this.knownAt(location);
    if (known !== undefined) return known;
    const at = this.clock.now();
    const generation = this.generation;
    const found = await this.directory.devicesAt(location);
    if (generation === this.generation) put(this.byLocation, location, { value: found, at });
    return found;
  }

  close(): void {
    this.unwatch();
    this.byId.clear();
    this.byLocation.clear();
  }

  private fresh<T>(entry: Entry<T> | undefined): T | undefined {
    if (entry === undefined || this.clock.now() - entry.at > this.maxAgeMs) return undefined;
    return entry.value;
  }
}

function put<T>(map: Map<string, T>, key: string, value: T): void {
  if (map.size >= LIMIT && !map.has(key)) map.clear();
  map.set(key, value);
}

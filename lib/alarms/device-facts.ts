// Registry facts for readings, cached: a device's public fields and customer,
// and the customer of a location (the one customer all its devices belong
// to). Hits answer synchronously, so a reading from a known device costs no
// query; every registry change empties the affected entries, so an edit in
// the API or the CLI is seen by the next reading.
import type { DeviceDirectory, DeviceInfo } from '../registry/directory';
import type { Facts } from './compile';

const LIMIT = 50_000;

export interface DeviceFact {
  id: string;
  type: string;
  customerId: string;
  location: string;
  description: string;
  enabled: boolean;
  config: unknown;
}

function publicFields(device: DeviceInfo): DeviceFact {
  return {
    id: device.id,
    type: device.type,
    customerId: device.customerId,
    location: device.location,
    description: device.description,
    enabled: device.enabled,
    config: device.config,
  };
}

export class DeviceFacts {
  private readonly devices = new Map<string, DeviceFact | null>();
  /** Location → its single customer, or null (none, or several). */
  private readonly locations = new Map<string, string | null>();
  private readonly customersAt = new Map<string, Set<string>>();
  private readonly unwatch: () => void;

  constructor(private readonly directory: DeviceDirectory) {
    this.unwatch = directory.watch((change) => {
      this.devices.delete(change.deviceId);
      this.locations.clear();
      this.customersAt.clear();
    });
  }

  /** Adds `device`, `customerId` and a missing `location` to the facts; a
   *  promise only when the registry must be asked. */
  enrich(facts: Facts): void | Promise<void> {
    const id = facts.deviceId;
    if (typeof id === 'string') {
      const known = this.devices.get(id);
      if (known !== undefined) return this.addDevice(facts, known);
      return this.device(id).then((device) => this.addDevice(facts, device));
    }
    const location = facts.location;
    if (typeof location !== 'string' || facts.customerId !== undefined) return;
    const known = this.locations.get(location);
    if (known !== undefined) {
      if (known !== null) facts.customerId = known;
      return;
    }
    return this.customersOf(location).then(() => {
      const customer = this.locations.get(location);
      if (customer) facts.customerId = customer;
    });
  }

  private addDevice(facts: Facts, device: DeviceFact | null): void {
    if (!device) return;
    facts.device = device;
    facts.customerId ??= device.customerId;
    facts.location ??= device.location;
  }

  async device(id: string): Promise<DeviceFact | null> {
    const known = this.devices.get(id);
    if (known !== undefined) return known;
    const found = await this.directory.findDevice(id);
    const fact = found ? publicFields(found) : null;
    if (this.devices.size >= LIMIT) this.devices.clear();
    this.devices.set(id, fact);
    return fact;
  }

  /** The customers of the devices at a location. */
  async customersOf(location: string): Promise<Set<string>> {
    const known = this.customersAt.get(location);
    if (known) return known;
    const customers = new Set((await this.directory.devicesAt(location)).map((d) => d.customerId));
    if (this.customersAt.size >= LIMIT) {
      this.customersAt.clear();
      this.locations.clear();
    }
    this.customersAt.set(location, customers);
    this.locations.set(location, customers.size === 1 ? [...customers][0] : null);
    return customers;
  }

  close(): void {
    this.unwatch();
  }
}

// Registry facts for readings, on the registry's device cache: a device's
// public fields and customer, and the customer of a location (the one
// customer all its devices belong to). Hits answer synchronously, so a
// reading from a known device costs no query; every registry change empties
// the affected entries, so an edit in the API or the CLI is seen by the next
// reading.
import { DeviceCache } from '../registry/device-cache';
import type { DeviceDirectory, DeviceInfo } from '../registry/directory';
import type { Facts } from './compile';

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
  private readonly cache: DeviceCache;

  constructor(directory: DeviceDirectory) {
    this.cache = new DeviceCache(directory);
  }

  /** Adds `device`, `customerId` and a missing `location` to the facts; a
   *  promise only when the registry must be asked. */
  enrich(facts: Facts): void | Promise<void> {
    const id = facts.deviceId;
    if (typeof id === 'string') {
      const known = this.cache.knownDevice(id);
      if (known !== undefined) return this.addDevice(facts, known && publicFields(known));
      return this.device(id).then((device) => this.addDevice(facts, device));
    }
    const location = facts.location;
    if (typeof location !== 'string' || facts.customerId !== undefined) return;
    const known = this.cache.knownAt(location);
    if (known !== undefined) return soleCustomer(facts, known);
    return this.cache.devicesAt(location).then((devices) => soleCustomer(facts, devices));
  }

  private addDevice(facts: Facts, device: DeviceFact | null): void {
    if (!device) return;
    facts.device = device;
    facts.customerId ??= device.customerId;
    facts.location ??= device.location;
  }

  async device(id: string): Promise<DeviceFact | null> {
    const found = await this.cache.findDevice(id);
    return found && publicFields(found);
  }

  /** The customers of the devices at a location. */
  async customersOf(location: string): Promise<Set<string>> {
    return new Set((await this.cache.devicesAt(location)).map((d) => d.customerId));
  }

  close(): void {
    this.cache.close();
  }
}

/** A location's customer is known when all its devices have the same one. */
function soleCustomer(facts: Facts, devices: DeviceInfo[]): void {
  const first = devices[0]?.customerId;
  if (first !== undefined && devices.every((d) => d.customerId === first)) facts.customerId = first;
}

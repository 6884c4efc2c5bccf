// An in-memory DeviceDirectory for unit tests of the transports (EOT, MQTT
// commands) that need devices but not a database. Integration tests use the
// real registry on the store.
import { DeviceChange, DeviceDirectory, DeviceInfo } from '../../lib/registry/directory';

export interface MemoryDevice extends Partial<DeviceInfo> {
  id: string;
  customerId: string;
  /** The serial number (shared secret). */
  serial?: string;
}

export class MemoryDirectory implements DeviceDirectory {
  private readonly devices = new Map<string, DeviceInfo & { serial: string | null }>();
  private readonly listeners = new Set<(change: DeviceChange) => void>();

  constructor(
    devices: MemoryDevice[] = [],
    private readonly now: () => number = Date.now,
  ) {
    for (const d of devices) this.put(d);
  }

  put(device: MemoryDevice): void {
    const existed = this.devices.has(device.id);
    this.devices.set(device.id, {
      type: 'mkr1000',
      location: 'u4/300',
      enabled: true,
      uidType: 'other',
      uid: null,
      description: '',
      config: {},
      lastSeen: null,
      lastStatus: null,
      outdatedAfterMs: 30 * 60_000,
      ...device,
      serial: device.serial ?? null,
    });
    this.emit(device.id, existed ? 'updated' : 'added');
  }

  setEnabled(id: string, enabled: boolean): void {
    const d = this.devices.get(id);
    if (!d) throw new Error(`no device ${id}`);
    d.enabled = enabled;
    this.emit(id, enabled ? 'enabled' : 'disabled');
  }

  remove(id: string): void {
    this.devices.delete(id);
    this.emit(id, 'removed');
  }

  async findDevice(id: string): Promise<DeviceInfo | null> {
    const d = this.devices.get(id);
    return d ? publicFields(d) : null;
  }

  async deviceSecret(id: string): Promise<string | null> {
    return this.devices.get(id)?.serial ?? null;
  }

  async devicesOfCustomer(customerId: string): Promise<DeviceInfo[]> {
    return [...this.devices.values()].filter((d) => d.customerId === customerId).map(publicFields);
  }

  async devicesAt(location: string): Promise<DeviceInfo[]> {
    return [...this.devices.values()].filter((d) => d.location === location).map(publicFields);
  }

  async markSeen(id: string, at: number, status?: unknown): Promise<void> {
    const d = this.devices.get(id);
    if (!d) return;
    d.lastSeen = at;
    if (status !== undefined) d.lastStatus = status;
  }

  watch(listener: (change: DeviceChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(deviceId: string, kind: DeviceChange['kind']): void {
    for (const l of this.listeners) l({ deviceId, kind, at: this.now() });
  }
}

function publicFields(d: DeviceInfo & { serial: string | null }): DeviceInfo {
  const info: DeviceInfo & { serial?: string | null } = { ...d };
  delete info.serial;
  return info;
}

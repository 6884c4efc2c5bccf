// What every transport (EOT, MQTT, HTTP) asks the device registry: who a
// device is, its login secret, where it is, and what changed. The registry
// (lib/registry) implements it on the shared store; transports depend only on
// this interface.
//
// Answers are always fresh: a device added, disabled or reset (from the API,
// the CLI in another process, or another instance) is seen by the next call,
// and `watch` reports it to connected sessions so they can act at once.

export type UidType = 'ethernet' | 'lorawan' | 'other';

/** The public fields of a device: never its secrets. */
export interface DeviceInfo {
  id: string;
  /** Device type name, e.g. `mkr1000`, `esp32`, `app`. */
  type: string;
  customerId: string;
  /** The device's MQTT base topic (topics.md), e.g. `u4/300`. */
  location: string;
  enabled: boolean;
  uidType: UidType;
  uid: string | null;
  description: string;
  /** The device's JSON configuration. */
  config: unknown;
  /** Epoch ms of the last sign of life, or null. */
  lastSeen: number | null;
  lastStatus: unknown;
  /** Silence after which the device counts as outdated (type or device setting). */
  outdatedAfterMs: number;
}

export type DeviceChangeKind =
  'added' | 'updated' | 'enabled' | 'disabled' | 'removed' | 'credentials';

export interface DeviceChange {
  deviceId: string;
  kind: DeviceChangeKind;
  /** Epoch ms of the change. */
  at: number;
}

export interface DeviceDirectory {
  /** The device, or null when no device has that id. */
  findDevice(id: string): Promise<DeviceInfo | null>;
  /** The device's serial number (the shared secret of EOT logins), decrypted.
   *  Null for an unknown device. Never log it. */
  deviceSecret(id: string): Promise<string | null>;
  /** Devices of a customer (for `*` destinations and per-customer views). */
  devicesOfCustomer(customerId: string): Promise<DeviceInfo[]>;
  /** Devices whose base topic is `location` (for "all units" orders). */
  devicesAt(location: string): Promise<DeviceInfo[]>;
  /** Records a sign of life: an EOT login or frame, an MQTT status. */
  markSeen(id: string, at: number, status?: unknown): Promise<void>;
  /** Calls `listener` for every change from now on; returns the unsubscribe. */
  watch(listener: (change: DeviceChange) => void): () => void;
}

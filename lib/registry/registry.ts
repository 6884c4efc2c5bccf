// The device registry on the shared store: customers, device types, devices
// and their credentials. Every transport asks it who a device is (it is the
// DeviceDirectory), and every change is written with a change-feed row in the
// same transaction, so other processes and instances see it at once.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema';
import { Clock, systemClock } from '../util/clock';
import type { Logger } from '../util/log';
import { ChangeFeed } from './change-feed';
import { Customers } from './customers';
import { DeviceTypes } from './device-types';
import { DeviceSecrets, generatePassword, generateSerial } from './credentials';
import type {
  DeviceChange,
  DeviceChangeKind,
  DeviceDirectory,
  DeviceInfo,
  UidType,
} from './directory';
import { checkedDeviceFields, DeviceFieldsInput } from './device-fields';
import { conflict, isDuplicateKey, notFound, RegistryError } from './errors';
import { LastSeenWriter } from './last-seen';
import { DashboardUsers } from './users';
import { DeviceRecord, toRecord, uidForms } from './records';

export type { DeviceRecord } from './records';
import type { DevicesTable } from './schema';
import * as check from './validation';

export interface DeviceInput extends DeviceFieldsInput {
  id: string;
  enabled?: boolean;
  /** Generated (and returned once) when omitted. */
  serial?: string;
}

export type DevicePatch = Partial<Omit<DeviceInput, 'id' | 'serial' | 'enabled'>>;

export interface DeviceFilter {
  customerId?: string;
  type?: string;
  location?: string;
  enabled?: boolean;
  limit?: number;
  offset?: number;
}

export interface RegistryOptions {
  credentialSecret: string;
  clock?: Clock;
  logger?: Logger;
  /** How often other processes' changes are read. */
  pollIntervalMs?: number;
  /** How often signs of life are written (they are coalesced in between). */
  seenFlushMs?: number;
}

type Changes = Array<DeviceChange & { seq: number }>;

/** Why a device login was refused. */
export type LoginRefusal = 'unknown' | 'bad_password' | 'no_password' | 'disabled';

export class Registry implements DeviceDirectory {
  readonly secrets: DeviceSecrets;
  readonly customers: Customers;
  readonly types: DeviceTypes;
  readonly users: DashboardUsers;
  private readonly feed: ChangeFeed;
  private readonly clock: Clock;
  private readonly lastSeen: LastSeenWriter;
  private readonly seenListeners = new Set<(id: string, at: number) => void>();

  constructor(
    readonly db: Kysely<Database>,
    options: RegistryOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.secrets = new DeviceSecrets(options.credentialSecret);
    this.customers = new Customers(db, this.clock);
    this.types = new DeviceTypes(db, this.clock);
    this.users = new DashboardUsers(db, this.clock);
    this.lastSeen = new LastSeenWriter(db, this.clock, options.logger, options.seenFlushMs);
    this.feed = new ChangeFeed(db, {
      clock: this.clock,
      logger: options.logger,
      pollIntervalMs: options.pollIntervalMs,
    });
  }

  // ------------------------------------------------------------ devices

  /** Registers a device; returns it with its serial number, shown only this once. */
  async addDevice(input: DeviceInput): Promise<{ device: DeviceRecord; serial: string }> {
    const id = check.checkId('id', input.id);
    const uidType = check.checkUidType(input.uidType);
    const serial = input.serial === undefined ? generateSerial() : check.checkSerial(input.serial);
    const now = this.clock.now();
    const changes = await this.write(async (trx, changed) => {
      // Said plainly: a clashing id would otherwise be reported on any of its keys.
      if (await trx.selectFrom('devices').select('id').where('id', '=', id).executeTakeFirst())
        throw conflict('id', `device ${id} already exists`);
      const fields = await checkedDeviceFields(trx, { ...input, uidType });
      await trx
        .insertInto('devices')
        .values({
          id,
          ...fields,
          enabled: input.enabled === false ? 0 : 1,
          serial_enc: this.secrets.encryptSerial(serial),
          mqtt_login: id,
          mqtt_password_hash: null,
          credentials_delivered: 0,
          last_seen: null,
          last_status: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      changed.push(await this.feed.record(trx, id, 'added'));
    }, `device ${id}`);
    this.feed.announce(changes);
    return { device: (await this.getDevice(id))!, serial };
  }

  async updateDevice(id: string, patch: DevicePatch): Promise<DeviceRecord> {
    const changes = await this.write(async (trx, changed) => {
      const current = await trx
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!current) throw notFound(`no device ${id}`);
      const merged: DeviceInput = {
        id,
        type: patch.type ?? current.type,
        customerId: patch.customerId ?? current.customer_id,
        location: patch.location ?? current.location,
        uidType: patch.uidType ?? (current.uid_type as UidType),
        uid: patch.uid !== undefined ? patch.uid : current.uid,
        description: patch.description ?? current.description,
        config: patch.config !== undefined ? patch.config : JSON.parse(current.config),
        outdatedAfterMs:
          patch.outdatedAfterMs !== undefined ? patch.outdatedAfterMs : current.outdated_after_ms,
      };
      const fields = await checkedDeviceFields(trx, merged);
      await trx
        .updateTable('devices')
        .set({ ...fields, updated_at: this.clock.now() })
        .where('id', '=', id)
        .execute();
      changed.push(await this.feed.record(trx, id, 'updated'));
    }, `device ${id}`);
    this.feed.announce(changes);
    return (await this.getDevice(id))!;
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    await this.change(id, enabled ? 'enabled' : 'disabled', { enabled: enabled ? 1 : 0 });
  }

  /** New MQTT credentials: the old password stops working now, and the next
   *  /device/credentials call hands out a new one. */
  async resetCredentials(id: string): Promise<void> {
    await this.change(id, 'credentials', { mqtt_password_hash: null, credentials_delivered: 0 });
  }

  /** A new MQTT password for a device, returned once (as `/device/credentials`
   *  would after a reset): for simulated devices, which are their own
   *  provisioning. The old password stops working now. */
  async issueCredentials(id: string): Promise<{ login: string; password: string }> {
    const device = await this.getDevice(id);
    if (!device) throw notFound(`no device ${id}`);
    const password = generatePassword();
    await this.change(id, 'credentials', {
      mqtt_password_hash: this.secrets.hashPassword(password),
      credentials_delivered: 1,
    });
    return { login: device.mqttLogin, password };
  }

  async setSerial(id: string, serial: string): Promise<void> {
    await this.change(id, 'credentials', {
      serial_enc: this.secrets.encryptSerial(check.checkSerial(serial)),
    });
  }

  async removeDevice(id: string): Promise<void> {
    const changes = await this.write(async (trx, changed) => {
      const result = await trx.deleteFrom('devices').where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound(`no device ${id}`);
      changed.push(await this.feed.record(trx, id, 'removed'));
    });
    this.feed.announce(changes);
  }

  async getDevice(id: string): Promise<DeviceRecord | null> {
    const row = await this.selectDevices().where('devices.id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async listDevices(filter: DeviceFilter = {}): Promise<{ items: DeviceRecord[]; total: number }> {
    let query = this.selectDevices();
    if (filter.customerId) query = query.where('devices.customer_id', '=', filter.customerId);
    if (filter.type) query = query.where('devices.type', '=', filter.type);
    if (filter.location) query = query.where('devices.location', '=', filter.location);
    if (filter.enabled !== undefined)
      query = query.where('devices.enabled', '=', filter.enabled ? 1 : 0);
    const total = await query
      .clearSelect()
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    const rows = await query
      .orderBy('devices.id')
      .limit(limit)
      .offset(Math.max(filter.offset ?? 0, 0))
      .execute();
    return { items: rows.map(toRecord), total: Number(total?.n ?? 0) };
  }

  // ------------------------------------------------------------ provisioning (topics.md)

  /** `GET /device/credentials`: the password on the first call only, then the login alone. */
  async credentialsForUid(
    uid: string,
  ): Promise<{ device: DeviceRecord; login: string; password?: string }> {
    const row = await this.selectDevices()
      .where('devices.uid', 'in', uidForms(uid))
      .executeTakeFirst();
    if (!row) throw notFound('no device with that uid');
    const device = toRecord(row);
    if (!device.enabled) throw new RegistryError('forbidden', 'device is disabled');
    if (row.credentials_delivered) return { device, login: row.mqtt_login };
    const password = generatePassword();
    const changes = await this.write(async (trx, changed) => {
      // Only one caller can flip the flag: a racing second call gets the login alone.
      const result = await trx
        .updateTable('devices')
        .set({
          mqtt_password_hash: this.secrets.hashPassword(password),
          credentials_delivered: 1,
          updated_at: this.clock.now(),
        })
        .where('id', '=', device.id)
        .where('credentials_delivered', '=', 0)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1)
        changed.push(await this.feed.record(trx, device.id, 'credentials'));
    });
    this.feed.announce(changes);
    return changes.length > 0
      ? { device, login: row.mqtt_login, password }
      : { device, login: row.mqtt_login };
  }

  /** The enabled device whose MQTT login and password these are, or null. */
  async authenticateMqtt(login: string, password: string): Promise<DeviceRecord | null> {
    const { device, refused } = await this.checkLogin(login, password);
    return refused ? null : device;
  }

  /** Checks a device login, saying why it is refused (for metrics and the
   *  HTTP status; never for the peer beyond that status). */
  async checkLogin(
    login: string,
    password: string,
  ): Promise<{ device: DeviceRecord | null; refused?: LoginRefusal }> {
    const row = await this.selectDevices()
      .where('devices.mqtt_login', '=', login)
      .executeTakeFirst();
    if (!row) return { device: null, refused: 'unknown' };
    const device = toRecord(row);
    if (!this.secrets.verifyPassword(password, row.mqtt_password_hash))
      return { device, refused: row.mqtt_password_hash ? 'bad_password' : 'no_password' };
    if (!device.enabled) return { device, refused: 'disabled' };
    return { device };
  }

  // ------------------------------------------------------------ DeviceDirectory

  async findDevice(id: string): Promise<DeviceInfo | null> {
    return this.getDevice(id);
  }

  async deviceSecret(id: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('devices')
      .select('serial_enc')
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? this.secrets.decryptSerial(row.serial_enc) : null;
  }

  async devicesOfCustomer(customerId: string): Promise<DeviceInfo[]> {
    return (
      await this.selectDevices()
        .where('devices.customer_id', '=', customerId)
        .orderBy('devices.id')
        .execute()
    ).map(toRecord);
  }

  async devicesAt(location: string): Promise<DeviceInfo[]> {
    return (
      await this.selectDevices()
        .where('devices.location', '=', location)
        .orderBy('devices.id')
        .execute()
    ).map(toRecord);
  }

  /** Coalesced: many signs of life within `seenFlushMs` cost one write per device. */
  async markSeen(id: string, at: number, status?: unknown): Promise<void> {
    this.lastSeen.mark(id, at, status);
    for (const listener of this.seenListeners) listener(id, at);
  }

  /** Calls `listener` for every sign of life marked in this process (the
   *  watchdog's prompt "back"); returns the unsubscribe. */
  watchSeen(listener: (id: string, at: number) => void): () => void {
    this.seenListeners.add(listener);
    return () => this.seenListeners.delete(listener);
  }

  /** Writes the pending signs of life now. */
  flushSeen(): Promise<void> {
    return this.lastSeen.flush();
  }

  watch(listener: (change: DeviceChange) => void): () => void {
    return this.feed.watch(listener);
  }

  /** Reads other processes' changes now (tests, and callers that need it at once). */
  pollChanges(): Promise<void> {
    return this.feed.poll();
  }

  /** Runs `body` in one transaction whose `record` writes change-feed rows,
   *  announced once it commits (bulk imports). */
  async transaction(
    body: (
      trx: Transaction<Database>,
      record: (deviceId: string, kind: DeviceChangeKind) => Promise<void>,
    ) => Promise<void>,
  ): Promise<void> {
    const changes = await this.write((trx, changed) =>
      body(trx, async (deviceId, kind) => {
        changed.push(await this.feed.record(trx, deviceId, kind));
      }),
    );
    this.feed.announce(changes);
  }

  async close(): Promise<void> {
    this.feed.stop();
    await this.lastSeen.close();
  }

  // ------------------------------------------------------------ internals

  private selectDevices() {
    return this.db
      .selectFrom('devices')
      .leftJoin('device_types', 'device_types.name', 'devices.type')
      .selectAll('devices')
      .select('device_types.outdated_after_ms as type_outdated_after_ms');
  }

  private async change(
    id: string,
    kind: DeviceChangeKind,
    values: Partial<DevicesTable>,
  ): Promise<void> {
    const changes = await this.write(async (trx, changed) => {
      const result = await trx
        .updateTable('devices')
        .set({ ...values, updated_at: this.clock.now() })
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound(`no device ${id}`);
      changed.push(await this.feed.record(trx, id, kind));
    });
    this.feed.announce(changes);
  }

  /** Runs `body` in a transaction; turns key conflicts into clear errors. */
  private async write(
    body: (trx: Transaction<Database>, changed: Changes) => Promise<void>,
    what = 'record',
  ): Promise<Changes> {
    const changed: Changes = [];
    try {
      await this.db.transaction().execute((trx) => body(trx, changed));
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      if (isDuplicateKey(err)) {
        const message = String((err as Error).message);
        if (/uid/.test(message)) throw conflict('uid', 'another device already has that uid');
        if (/mqtt_login/.test(message))
          throw conflict('id', `${what} clashes with another device's MQTT login`);
        throw conflict('id', `${what} already exists`);
      }
      throw err;
    }
    return changed;
  }
}

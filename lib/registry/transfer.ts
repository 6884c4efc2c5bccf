// Export and import of a whole registry as JSON lines, to move it between
// the embedded store and MySQL, or between installations. The first line is
// a header; then one object per line: customers, device types, devices,
// dashboard users. Secrets travel safely:
//  - serial numbers are sealed with a key derived (scrypt) from a passphrase
//    the operator gives to both ends, never in plain text;
//  - MQTT password hashes and dashboard bcrypt hashes are copied as hashes;
//    MQTT hashes only work under the same credential secret, so when the
//    importing installation has another one, those devices' credentials are
//    reset (they fetch new ones from /device/credentials).
// An import is one transaction: all of it is written, or nothing.
import crypto from 'node:crypto';
import { deriveKey, secretsEqual } from '../security/secrets';
import { checkedDeviceFields } from './device-fields';
import type { UidType } from './directory';
import { invalid } from './errors';
import type { Registry } from './registry';
import * as check from './validation';

export const EXPORT_FORMAT = 'sensflow-registry';
const MIN_PASSPHRASE = 12;

interface Header {
  format: typeof EXPORT_FORMAT;
  version: 1;
  exportedAt: number;
  /** scrypt salt of the serial key (base64). */
  salt: string;
  /** Tells the importer whether it shares the exporter's credential secret. */
  secretCheck: string;
}

export interface ExportedDevice {
  id: string;
  type: string;
  customerId: string;
  location: string;
  uidType: UidType;
  uid: string | null;
  description: string;
  enabled: boolean;
  config: unknown;
  outdatedAfterMs: number | null;
  /** The serial number sealed with the passphrase key: `iv:tag:data` (base64). */
  serialSealed: string;
  mqttLogin: string;
  mqttPasswordHash: string | null;
  credentialsDelivered: boolean;
  lastSeen: number | null;
  lastStatus: unknown;
  createdAt: number;
  updatedAt: number;
}

type Line =
  | { customer: { id: string; name: string } }
  | {
      deviceType: {
        name: string;
        configSchema: unknown;
        orders: Record<string, string[]> | null;
        outdatedAfterMs: number | null;
      };
    }
  | { device: ExportedDevice }
  | {
      user: { username: string; passwordHash: string; customerId: string | null; role: string };
    };

function checkPassphrase(passphrase: string): string {
  if (passphrase.length < MIN_PASSPHRASE)
    throw invalid('passphrase', `must be at least ${MIN_PASSPHRASE} characters`);
  return passphrase;
}

function sealKey(passphrase: string, salt: Buffer): Buffer {
  return crypto.scryptSync(passphrase, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 });
}

function seal(key: Buffer, text: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64')).join(':');
}

function unseal(key: Buffer, sealed: string, path: string): string {
  const [iv, tag, data] = sealed.split(':');
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw invalid(path, 'cannot be unsealed: wrong passphrase or damaged export');
  }
}

function secretCheck(credentialSecret: string): string {
  return crypto
    .createHmac('sha256', deriveKey(credentialSecret, 'export-check'))
    .update(EXPORT_FORMAT)
    .digest('base64');
}

/** The registry as JSON lines (each without its newline). */
export async function* exportRegistry(
  registry: Registry,
  credentialSecret: string,
  passphrase: string,
): AsyncGenerator<string> {
  const salt = crypto.randomBytes(16);
  const key = sealKey(checkPassphrase(passphrase), salt);
  const header: Header = {
    format: EXPORT_FORMAT,
    version: 1,
    exportedAt: Date.now(),
    salt: salt.toString('base64'),
    secretCheck: secretCheck(credentialSecret),
  };
  yield JSON.stringify(header);
  const db = registry.db;
  for (const c of await db.selectFrom('customers').selectAll().orderBy('id').execute())
    yield JSON.stringify({ customer: { id: c.id, name: c.name } } satisfies Line);
  for (const t of await registry.types.list()) yield JSON.stringify({ deviceType: t });
  const rows = await db.selectFrom('devices').selectAll().orderBy('id').execute();
  for (const r of rows) {
    const device: ExportedDevice = {
      id: r.id,
      type: r.type,
      customerId: r.customer_id,
      location: r.location,
      uidType: r.uid_type as UidType,
      uid: r.uid,
      description: r.description,
      enabled: Boolean(r.enabled),
      config: JSON.parse(r.config),
      outdatedAfterMs: r.outdated_after_ms === null ? null : Number(r.outdated_after_ms),
      serialSealed: seal(key, registry.secrets.decryptSerial(r.serial_enc)),
      mqttLogin: r.mqtt_login,
      mqttPasswordHash: r.mqtt_password_hash,
      credentialsDelivered: Boolean(r.credentials_delivered),
      lastSeen: r.last_seen === null ? null : Number(r.last_seen),
      lastStatus: r.last_status === null ? null : JSON.parse(r.last_status),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    };
    yield JSON.stringify({ device } satisfies Line);
  }
  const users = await db.selectFrom('dashboard_users').selectAll().orderBy('username').execute();
  for (const u of users) {
    yield JSON.stringify({
      user: {
        username: u.username,
        passwordHash: u.password_hash,
        customerId: u.customer_id,
        role: u.role,
      },
    } satisfies Line);
  }
}

export interface ImportSummary {
  customers: number;
  deviceTypes: number;
  devices: number;
  users: number;
  /** Devices whose MQTT credentials were reset (another credential secret). */
  credentialsReset: number;
}

/** Imports an export into this registry, in one transaction. Customers,
 *  devices and users must be new here; device types are created or replaced. */
export async function importRegistry(
  registry: Registry,
  credentialSecret: string,
  lines: string[],
  passphrase: string,
): Promise<ImportSummary> {
  const parsed = lines
    .map((text, i) => ({ text: text.trim(), n: i + 1 }))
    .filter((l) => l.text !== '')
    .map(({ text, n }) => {
      try {
        return { n, value: JSON.parse(text) as unknown };
      } catch {
        throw invalid(`line ${n}`, 'is not JSON');
      }
    });
  const header = parsed[0]?.value as Partial<Header> | undefined;
  if (header?.format !== EXPORT_FORMAT || header.version !== 1 || !header.salt)
    throw invalid('line 1', `is not a ${EXPORT_FORMAT} export header (version 1)`);
  const key = sealKey(checkPassphrase(passphrase), Buffer.from(header.salt, 'base64'));
  const sameSecret = secretsEqual(header.secretCheck ?? '', secretCheck(credentialSecret));
  const summary: ImportSummary = {
    customers: 0,
    deviceTypes: 0,
    devices: 0,
    users: 0,
    credentialsReset: 0,
  };
  const now = Date.now();
  await registry.transaction(async (trx, record) => {
    for (const { n, value } of parsed.slice(1)) {
      const line = value as Partial<Record<string, Record<string, unknown>>>;
      const at = `line ${n}`;
      if (line.customer) {
        const c = line.customer;
        await trx
          .insertInto('customers')
          .values({
            id: check.checkId(`${at}/id`, c.id),
            name: check.checkText(`${at}/name`, c.name, 255, true),
            created_at: now,
          })
          .execute();
        summary.customers++;
      } else if (line.deviceType) {
        const t = line.deviceType;
        const name = check.checkTypeName(t.name);
        const values = {
          config_schema: t.configSchema == null ? null : JSON.stringify(t.configSchema),
          orders: t.orders == null ? null : JSON.stringify(t.orders),
          outdated_after_ms: check.checkThreshold(`${at}/outdatedAfterMs`, t.outdatedAfterMs),
        };
        if (values.config_schema) check.compileSchema(values.config_schema);
        await trx.deleteFrom('device_types').where('name', '=', name).execute();
        await trx
          .insertInto('device_types')
          .values({ name, ...values, created_at: now })
          .execute();
        summary.deviceTypes++;
      } else if (line.device) {
        const d = line.device as unknown as ExportedDevice;
        const id = check.checkId(`${at}/id`, d.id);
        const fields = await checkedDeviceFields(trx, d);
        const serial = check.checkSerial(unseal(key, String(d.serialSealed), `${at}/serialSealed`));
        const keepPassword = sameSecret && d.credentialsDelivered && !!d.mqttPasswordHash;
        if (d.credentialsDelivered && !keepPassword) summary.credentialsReset++;
        await trx
          .insertInto('devices')
          .values({
            id,
            ...fields,
            enabled: d.enabled === false ? 0 : 1,
            serial_enc: registry.secrets.encryptSerial(serial),
            mqtt_login: check.checkId(`${at}/mqttLogin`, d.mqttLogin),
            mqtt_password_hash: keepPassword ? d.mqttPasswordHash : null,
            credentials_delivered: keepPassword ? 1 : 0,
            last_seen: typeof d.lastSeen === 'number' ? d.lastSeen : null,
            last_status:
              d.lastStatus === null || d.lastStatus === undefined
                ? null
                : check.checkJsonObject(`${at}/lastStatus`, d.lastStatus, check.MAX_STATUS_BYTES),
            created_at: typeof d.createdAt === 'number' ? d.createdAt : now,
            updated_at: typeof d.updatedAt === 'number' ? d.updatedAt : now,
          })
          .execute();
        await record(id, 'added');
        summary.devices++;
      } else if (line.user) {
        const u = line.user;
        if (typeof u.passwordHash !== 'string' || !/^\$2[aby]\$\d\d\$/.test(u.passwordHash))
          throw invalid(`${at}/passwordHash`, 'must be a bcrypt hash');
        if (u.role !== 'viewer' && u.role !== 'operator')
          throw invalid(`${at}/role`, 'must be viewer or operator');
        await trx
          .insertInto('dashboard_users')
          .values({
            username: check.checkId(`${at}/username`, u.username),
            password_hash: u.passwordHash,
            customer_id:
              u.customerId == null ? null : check.checkId(`${at}/customerId`, u.customerId),
            role: u.role,
            created_at: now,
            updated_at: now,
          })
          .execute();
        summary.users++;
      } else {
        throw invalid(at, 'holds no customer, deviceType, device or user');
      }
    }
  });
  return summary;
}

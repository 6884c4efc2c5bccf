// `sensflow devices …`: the device registry from the command line, on the
// same store as the server. Changes reach a running server at once (change
// feed). A generated serial number is printed once, when the device is added.
import type { DeviceRecord } from '../../../lib/registry/records';
import type { DeviceInput, DevicePatch } from '../../../lib/registry/registry';
import type { UidType } from '../../../lib/registry/directory';
import { printTable, withRegistry } from '../registry-store';
import { parse, UsageError } from '../usage';
import { exportCommand, importCommand } from './devices-transfer';
import { provisionCommand } from './provision';

const USAGE = [
  'usage: sensflow devices <action> [options]',
  '  add --id ID --type TYPE --customer ID --location BASE [--uid UID] [--uid-type ethernet|lorawan|other]',
  '      [--serial SERIAL] [--description TEXT] [--config JSON] [--outdated-after MINUTES] [--disabled]',
  '  list [--customer ID] [--type TYPE] [--location BASE] [--enabled true|false] [--limit N] [--offset N] [--json]',
  '  show --id ID',
  '  update --id ID [--type --customer --location --uid --uid-type --description --config --outdated-after]',
  '  disable|enable|remove|reset-credentials --id ID',
  '  set-serial --id ID --serial SERIAL',
  '  export [--out FILE] [--passphrase-file FILE]     (JSON lines; see README)',
  '  import [--in FILE] [--passphrase-file FILE]',
  '  provision --id ID (--port DEVICE [--baud N] | --out FILE) [--server HOST] [--server-port N]',
].join('\n');

const FIELD_OPTIONS = {
  id: { type: 'string' },
  type: { type: 'string' },
  customer: { type: 'string' },
  location: { type: 'string' },
  uid: { type: 'string' },
  'uid-type': { type: 'string' },
  description: { type: 'string' },
  config: { type: 'string' },
  'outdated-after': { type: 'string' },
} as const;

export async function devicesCommand(args: string[]): Promise<number | void> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return add(rest);
    case 'list':
      return list(rest);
    case 'show': {
      const id = idOf(rest);
      const device = await withRegistry(({ registry }) => registry.getDevice(id));
      if (!device) throw new Error(`no device ${id}`);
      console.log(JSON.stringify(device, null, 2));
      return;
    }
    case 'update':
      return update(rest);
    case 'disable':
    case 'enable': {
      const id = idOf(rest);
      await withRegistry(({ registry }) => registry.setEnabled(id, action === 'enable'));
      console.log(`Device ${id} ${action}d.`);
      return;
    }
    case 'remove': {
      const id = idOf(rest);
      await withRegistry(({ registry }) => registry.removeDevice(id));
      console.log(`Device ${id} removed.`);
      return;
    }
    case 'reset-credentials': {
      const id = idOf(rest);
      await withRegistry(({ registry }) => registry.resetCredentials(id));
      console.log(
        `Credentials of ${id} reset: its MQTT password no longer works; its next /device/credentials call gets a new one.`,
      );
      return;
    }
    case 'set-serial': {
      const { values } = parse(rest, { id: { type: 'string' }, serial: { type: 'string' } });
      if (!values.id || !values.serial) throw new UsageError(USAGE);
      await withRegistry(({ registry }) => registry.setSerial(values.id!, values.serial!));
      console.log(`Serial number of ${values.id} changed.`);
      return;
    }
    case 'export':
      return exportCommand(rest);
    case 'import':
      return importCommand(rest);
    case 'provision':
      return provisionCommand(rest);
    default:
      throw new UsageError(USAGE);
  }
}

function idOf(rest: string[]): string {
  const { values, positionals } = parse(rest, { id: { type: 'string' } }, true);
  const id = values.id ?? positionals[0];
  if (!id || positionals.length > (values.id ? 0 : 1)) throw new UsageError(USAGE);
  return id;
}

async function add(rest: string[]) {
  const { values } = parse(rest, {
    ...FIELD_OPTIONS,
    serial: { type: 'string' },
    disabled: { type: 'boolean' },
  });
  if (!values.id || !values.type || !values.customer || !values.location)
    throw new UsageError(`add needs --id, --type, --customer and --location\n${USAGE}`);
  const input: DeviceInput = {
    ...fieldsOf(values),
    id: values.id,
    type: values.type,
    customerId: values.customer,
    location: values.location,
    serial: values.serial,
    enabled: !values.disabled,
  };
  const { device, serial } = await withRegistry(({ registry }) => registry.addDevice(input));
  console.log(
    `Device ${device.id} added (${device.type}, ${device.customerId}, ${device.location}).`,
  );
  if (values.serial === undefined) {
    console.log(`Serial number (generated, shown only this once; write it into the device):`);
    console.log(`  ${serial}`);
  }
}

async function update(rest: string[]) {
  const { values } = parse(rest, FIELD_OPTIONS);
  if (!values.id) throw new UsageError(USAGE);
  const patch: DevicePatch = fieldsOf(values);
  if (values.type !== undefined) patch.type = values.type;
  if (values.customer !== undefined) patch.customerId = values.customer;
  if (values.location !== undefined) patch.location = values.location;
  if (Object.keys(patch).length === 0) throw new UsageError(`update: nothing to change\n${USAGE}`);
  const device = await withRegistry(({ registry }) => registry.updateDevice(values.id!, patch));
  console.log(`Device ${device.id} updated.`);
}

/** The optional fields both add and update take. */
function fieldsOf(values: {
  uid?: string;
  'uid-type'?: string;
  description?: string;
  config?: string;
  'outdated-after'?: string;
}): DevicePatch {
  const patch: DevicePatch = {};
  if (values.uid !== undefined) patch.uid = values.uid === '' ? null : values.uid;
  if (values['uid-type'] !== undefined) patch.uidType = values['uid-type'] as UidType;
  if (values.description !== undefined) patch.description = values.description;
  if (values.config !== undefined) {
    try {
      patch.config = JSON.parse(values.config);
    } catch {
      throw new UsageError('--config must be JSON, e.g. \'{"interval": 60}\'');
    }
  }
  const minutes = values['outdated-after'];
  if (minutes !== undefined) {
    if (minutes === 'default') patch.outdatedAfterMs = null;
    else if (!/^\d+$/.test(minutes))
      throw new UsageError('--outdated-after takes whole minutes, or "default"');
    else patch.outdatedAfterMs = Number(minutes) * 60_000;
  }
  return patch;
}

async function list(rest: string[]) {
  const { values } = parse(rest, {
    customer: { type: 'string' },
    type: { type: 'string' },
    location: { type: 'string' },
    enabled: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.enabled !== undefined && !['true', 'false'].includes(values.enabled))
    throw new UsageError('--enabled takes true or false');
  for (const name of ['limit', 'offset'] as const) {
    if (values[name] !== undefined && !/^\d{1,9}$/.test(values[name]!))
      throw new UsageError(`--${name} takes a whole number`);
  }
  const page = await withRegistry(({ registry }) =>
    registry.listDevices({
      customerId: values.customer,
      type: values.type,
      location: values.location,
      enabled: values.enabled === undefined ? undefined : values.enabled === 'true',
      limit: values.limit ? Number(values.limit) : 1000,
      offset: values.offset ? Number(values.offset) : 0,
    }),
  );
  if (values.json) {
    for (const d of page.items) console.log(JSON.stringify(d));
    return;
  }
  printTable(['ID', 'TYPE', 'CUSTOMER', 'LOCATION', 'ENABLED', 'LAST SEEN'], page.items.map(row));
  if (page.total > page.items.length) console.log(`(${page.items.length} of ${page.total})`);
}

function row(d: DeviceRecord): string[] {
  return [
    d.id,
    d.type,
    d.customerId,
    d.location,
    d.enabled ? 'yes' : 'no',
    d.lastSeen === null ? '-' : new Date(d.lastSeen).toISOString(),
  ];
}

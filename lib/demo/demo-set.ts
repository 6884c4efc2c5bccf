// The demo: two customers with simulated devices, seeded on a first start
// (SENSFLOW_DEMO) so every shipped page shows live data at once. Everything in
// it is marked: customers `demo-…` named "(simulated)", device types
// `demo_…`, devices `demo-…` whose description says how to remove them
// (`sensflow demo remove`) and whose configuration has a `simulate` section,
// which the default flow's device-simulator node runs.
import type { DeviceInput, Registry } from '../registry/registry';
import { RegistryError } from '../registry/errors';

export const DEMO_CUSTOMERS = [
  { id: 'demo-campus', name: 'Demo campus (simulated)' },
  { id: 'demo-home', name: 'Demo smart home (simulated)' },
];

const DEVICE_ORDERS = ['reboot', 'reinstall'];
/** Demo devices report every few seconds: two silent minutes make them outdated. */
const DEMO_OUTDATED_MS = 2 * 60_000;

export const DEMO_TYPES: Array<{ name: string; orders: Record<string, string[]> }> = [
  { name: 'demo_sensor', orders: { device: DEVICE_ORDERS } },
  { name: 'demo_shutter', orders: { shutter: ['up', 'down', 'stop'], device: DEVICE_ORDERS } },
  { name: 'demo_lighting', orders: { lighting: ['on', 'off', '0-100'], device: DEVICE_ORDERS } },
  { name: 'demo_ventilation', orders: { ventilation: ['on', 'off'], device: DEVICE_ORDERS } },
  { name: 'demo_relay', orders: { relay: ['on', 'off'], device: DEVICE_ORDERS } },
];

export const DEMO_DESCRIPTION =
  'Demo device (simulated); remove the demo with: sensflow demo remove';

type DemoDevice = Pick<DeviceInput, 'id' | 'type' | 'customerId' | 'location' | 'config'>;

const mqtt = (simulate: Record<string, unknown> = {}) => ({ transport: 'mqtt', simulate });
const eot = { transport: 'eot', simulate: {} };

export const DEMO_DEVICES: DemoDevice[] = [
  // Campus (seed 002): rooms with sensors, shutters and lighting, MQTT.
  {
    id: 'demo-u4-300-env',
    type: 'demo_sensor',
    customerId: 'demo-campus',
    location: 'u4/300',
    // CO2 climbs above 1000 ppm at once: the co2-high rule fires within seconds.
    config: mqtt({
      sensors: {
        temperature: { mean: 22.5 },
        humidity: {},
        co2: { mean: 1000, swing: 250, period: 600 },
      },
    }),
  },
  {
    id: 'demo-u4-300-shutter',
    type: 'demo_shutter',
    customerId: 'demo-campus',
    location: 'u4/300',
    config: mqtt(),
  },
  {
    id: 'demo-u4-300-light',
    type: 'demo_lighting',
    customerId: 'demo-campus',
    location: 'u4/300',
    config: mqtt(),
  },
  {
    id: 'demo-u4-300-vent',
    type: 'demo_ventilation',
    customerId: 'demo-campus',
    location: 'u4/300',
    config: mqtt(),
  },
  {
    id: 'demo-u4-301-env',
    type: 'demo_sensor',
    customerId: 'demo-campus',
    location: 'u4/301',
    // A warm room: above 28 °C for ten minutes, the too-hot rule opens its shutters.
    config: mqtt({
      sensors: { temperature: { mean: 28.6, swing: 1.2, period: 3600 }, humidity: {}, co2: {} },
    }),
  },
  {
    id: 'demo-u4-301-shutter',
    type: 'demo_shutter',
    customerId: 'demo-campus',
    location: 'u4/301',
    config: mqtt(),
  },
  {
    id: 'demo-bu-hall-env',
    type: 'demo_sensor',
    customerId: 'demo-campus',
    location: 'bu/hall',
    config: mqtt({ sensors: ['temperature', 'luminosity'] }),
  },
  {
    id: 'demo-bu-hall-light',
    type: 'demo_lighting',
    customerId: 'demo-campus',
    location: 'bu/hall',
    config: mqtt(),
  },
  {
    id: 'demo-outside-env',
    type: 'demo_sensor',
    customerId: 'demo-campus',
    location: 'outside/ambient',
    config: mqtt({ sensors: { temperature: { mean: 14, swing: 4 }, humidity: { mean: 70 } } }),
  },
  // EOT devices (seed 000), for the device console.
  {
    id: 'demo-eot-01',
    type: 'mkr1000',
    customerId: 'demo-campus',
    location: 'u4/302',
    config: eot,
  },
  { id: 'demo-eot-02', type: 'bbgw', customerId: 'demo-campus', location: 'u4/302', config: eot },
  // Smart home (seed 004): room thermometers (retained values) and relays.
  {
    id: 'demo-home-living-th',
    type: 'demo_sensor',
    customerId: 'demo-home',
    location: 'home/living',
    config: mqtt({ sensors: { temperature: { mean: 21.5, swing: 1 } }, retain: true }),
  },
  {
    id: 'demo-home-living-relay',
    type: 'demo_relay',
    customerId: 'demo-home',
    location: 'home/living',
    config: mqtt(),
  },
  {
    id: 'demo-home-kitchen-th',
    type: 'demo_sensor',
    customerId: 'demo-home',
    location: 'home/kitchen',
    config: mqtt({ sensors: { temperature: { mean: 20, swing: 1.5 } }, retain: true }),
  },
  {
    id: 'demo-home-kitchen-relay',
    type: 'demo_relay',
    customerId: 'demo-home',
    location: 'home/kitchen',
    config: mqtt(),
  },
  {
    id: 'demo-home-bedroom-th',
    type: 'demo_sensor',
    customerId: 'demo-home',
    location: 'home/bedroom',
    config: mqtt({ sensors: { temperature: { mean: 19, swing: 0.8 } }, retain: true }),
  },
  {
    id: 'demo-home-hub',
    type: 'rpi3',
    customerId: 'demo-home',
    location: 'home/living',
    config: eot,
  },
];

type DemoRegistry = Pick<
  Registry,
  'customers' | 'types' | 'users' | 'addDevice' | 'getDevice' | 'listDevices' | 'removeDevice'
>;

/** Adds what of the demo is missing; returns the number of devices added. */
export async function addDemo(registry: DemoRegistry): Promise<number> {
  const customers = new Set((await registry.customers.list()).map((c) => c.id));
  for (const c of DEMO_CUSTOMERS) if (!customers.has(c.id)) await registry.customers.add(c);
  const types = new Set((await registry.types.list()).map((t) => t.name));
  for (const t of DEMO_TYPES)
    if (!types.has(t.name)) await registry.types.save({ ...t, outdatedAfterMs: DEMO_OUTDATED_MS });
  let added = 0;
  for (const d of DEMO_DEVICES) {
    if (await registry.getDevice(d.id)) continue;
    await registry.addDevice({
      ...d,
      description: DEMO_DESCRIPTION,
      uidType: 'other',
      outdatedAfterMs: DEMO_OUTDATED_MS,
    });
    added++;
  }
  return added;
}

/**
 * Removes the demo: every device and dashboard user of the demo customers,
 * the customers, and the demo device types no other device uses. Returns the devices removed.
 */
export async function removeDemo(registry: DemoRegistry): Promise<number> {
  let removed = 0;
  const known = new Set((await registry.customers.list()).map((c) => c.id));
  for (const c of DEMO_CUSTOMERS) {
    if (!known.has(c.id)) continue;
    for (;;) {
      const page = await registry.listDevices({ customerId: c.id, limit: 1000 });
      if (page.items.length === 0) break;
      for (const d of page.items) {
        await registry.removeDevice(d.id);
        removed++;
      }
    }
    for (const user of await registry.users.list())
      if (user.customerId === c.id) await registry.users.remove(user.username);
    await registry.customers.remove(c.id);
  }
  for (const t of DEMO_TYPES) {
    try {
      await registry.types.remove(t.name);
    } catch (err) {
      // Still used by a device of the user's own, or already gone: kept as is.
      if (!(err instanceof RegistryError)) throw err;
    }
  }
  return removed;
}

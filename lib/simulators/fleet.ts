// Simulated devices chosen from the registry and run together: which devices
// (those of some customers, some ids, or every one whose configuration has a
// `simulate` section), their profiles, and one report for all of them. The
// `device-simulator` node and `sensflow simulate mqtt` share it.
import type { DeviceInfo } from '../registry/directory';
import type { Clock } from '../util/clock';
import { errorMessage, Logger } from '../util/log';
import { Credentials, SimulatedMqttDevice } from './mqtt-device';
import { MqttDeviceProfile, profileOf, simulateSection, transportOf } from './profile';

export interface FleetRegistry {
  listDevices(filter: {
    customerId?: string;
    enabled?: boolean;
    limit?: number;
    offset?: number;
  }): Promise<{ items: DeviceInfo[]; total: number }>;
  types: { list(): Promise<Array<{ name: string; orders: Record<string, string[]> | null }>> };
  issueCredentials(id: string): Promise<Credentials>;
}

export interface Selection {
  /** Only devices of these customers (empty: any). */
  customers?: string[];
  /** Only these devices (empty: any). */
  ids?: string[];
  /** Only devices whose configuration has a `simulate` section. */
  marked?: boolean;
  transport: 'mqtt' | 'eot';
  /** At most this many. */
  limit?: number;
}

const PAGE = 1000;

/** The enabled devices a selection names, in id order, with their type's orders. */
export async function selectDevices(
  registry: FleetRegistry,
  selection: Selection,
): Promise<Array<{ device: DeviceInfo; orders: Record<string, string[]> | null }>> {
  const orders = new Map((await registry.types.list()).map((t) => [t.name, t.orders]));
  const customers = selection.customers?.length ? selection.customers : [undefined];
  const ids = selection.ids?.length ? new Set(selection.ids) : undefined;
  const limit = selection.limit ?? Infinity;
  const chosen: Array<{ device: DeviceInfo; orders: Record<string, string[]> | null }> = [];
  for (const customerId of customers) {
    for (let offset = 0; chosen.length < limit; offset += PAGE) {
      const page = await registry.listDevices({ customerId, enabled: true, limit: PAGE, offset });
      for (const device of page.items) {
        if (chosen.length >= limit) break;
        if (ids && !ids.has(device.id)) continue;
        if (selection.marked && !simulateSection(device.config)) continue;
        if (transportOf(device.config) !== selection.transport) continue;
        chosen.push({ device, orders: orders.get(device.type) ?? null });
      }
      if (page.items.length < PAGE) break;
    }
  }
  return chosen;
}

export interface MqttFleetOptions {
  url: string;
  registry: FleetRegistry;
  readingEveryMs: number;
  statusEveryMs: number;
  /** Sensor kinds of devices whose configuration lists none. */
  defaultKinds?: string[];
  echoDelayMs?: number;
  clock: Clock;
  logger: Logger;
}

export interface FleetReport {
  devices: number;
  connected: number;
  readings: number;
  statuses: number;
  orders: number;
  echoes: number;
}

/** Simulated MQTT devices, each with its own login, started and stopped together. */
export class MqttFleet {
  readonly devices: SimulatedMqttDevice[] = [];

  constructor(private readonly options: MqttFleetOptions) {}

  /** Starts one simulated device per registered one; a device whose start
   *  fails is logged and left out. */
  async start(
    chosen: Array<{ device: DeviceInfo; orders: Record<string, string[]> | null }>,
  ): Promise<void> {
    const { options } = this;
    for (const { device, orders } of chosen) {
      const profile: MqttDeviceProfile = profileOf(device, orders, options.defaultKinds);
      const simulated = new SimulatedMqttDevice({
        url: options.url,
        profile,
        credentials: () => options.registry.issueCredentials(device.id),
        readingEveryMs: options.readingEveryMs,
        statusEveryMs: options.statusEveryMs,
        echoDelayMs: options.echoDelayMs,
        clock: options.clock,
        logger: options.logger,
      });
      try {
        await simulated.start();
        this.devices.push(simulated);
      } catch (err) {
        options.logger.warn(`simulated ${device.id}: ${errorMessage(err)}`);
        await simulated.stop().catch(() => undefined);
      }
    }
  }

  report(): FleetReport {
    const report: FleetReport = {
      devices: this.devices.length,
      connected: 0,
      readings: 0,
      statuses: 0,
      orders: 0,
      echoes: 0,
    };
    for (const d of this.devices) {
      if (d.connected) report.connected++;
      report.readings += d.counts.readings;
      report.statuses += d.counts.statuses;
      report.orders += d.counts.orders;
      report.echoes += d.counts.echoes;
    }
    return report;
  }

  async stop(): Promise<void> {
    await Promise.all(this.devices.splice(0).map((d) => d.stop()));
  }
}

// device-simulator: runs simulated devices of the registry inside the flows,
// so dashboards show live data before real devices connect (the default
// flow's demo). MQTT devices log in to the broker with their own credentials
// and behave as lib/simulators says; EOT devices log in to an EOT server with
// their serial (lib/eot/simulator). Disable the node, or its tab, to stop them.
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { Simulator } from '../../lib/eot/simulator';
import { MqttFleet, selectDevices } from '../../lib/simulators/fleet';
import { systemClock } from '../../lib/util/clock';
import { errorMessage } from '../../lib/util/log';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';
import { nodeLogger } from '../shared/node-logger';
import { portProperty, property } from '../shared/properties';

interface SimulatorDef extends NodeDef {
  registry: string;
  customers: string;
  mqttHost: string;
  mqttPort: string;
  eotHost: string;
  eotPort: string;
  readingEvery: string;
  statusEvery: string;
  eotRate: string;
}

const EOT_RECONNECT_MS = 3000;
const STATUS_EVERY_MS = 5000;

export = function (RED: NodeAPI) {
  function DeviceSimulatorNode(this: Node, def: SimulatorDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    const logger = nodeLogger(this);
    const seconds = (v: string, fallback: number) => {
      const n = Number(property(v, String(fallback)));
      return Number.isFinite(n) && n > 0 ? n : fallback;
    };
    let fleet: MqttFleet | undefined;
    let eot: Simulator | undefined;
    let ticker: NodeJS.Timeout | undefined;
    let closed = false;

    const starting = (async () => {
      if (!config) throw new Error(RED._('device-simulator.errors.no-registry'));
      const registry = await config.registry();
      const customers = (def.customers ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const mqttHost = property(def.mqttHost, '127.0.0.1');
      const mqttPort = portProperty(def.mqttPort, 1883, RED._('device-simulator.label.mqttPort'));
      const eotPort = portProperty(def.eotPort, 4004, RED._('device-simulator.label.eotPort'));
      const mqttDevices = await selectDevices(registry, {
        customers,
        marked: true,
        transport: 'mqtt',
      });
      const eotDevices = await selectDevices(registry, {
        customers,
        marked: true,
        transport: 'eot',
      });
      if (closed) return;
      fleet = new MqttFleet({
        url: `mqtt://${mqttHost.includes(':') ? `[${mqttHost}]` : mqttHost}:${mqttPort}`,
        registry,
        readingEveryMs: seconds(def.readingEvery, 5) * 1000,
        statusEveryMs: seconds(def.statusEvery, 10) * 1000,
        clock: systemClock,
        logger,
      });
      await fleet.start(mqttDevices);
      const withSerials = [];
      for (const { device } of eotDevices) {
        const serial = await registry.deviceSecret(device.id);
        if (serial)
          withSerials.push({
            id: device.id,
            type: device.type,
            serial,
            customer: device.customerId,
          });
      }
      if (withSerials.length > 0 && !closed) {
        eot = new Simulator({
          connect: { host: property(def.eotHost, '127.0.0.1'), port: eotPort, separator: 0x7c },
          devices: withSerials,
          ratePerDevice: seconds(def.eotRate, 0.2),
          mix: { reading: 80, event: 15, alarm: 5, msg: 0 },
          reconnectMs: EOT_RECONNECT_MS,
        });
        await eot.start();
      }
      if (closed) await stop();
    })();
    starting.catch((err: unknown) => {
      this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
      this.error(RED._('device-simulator.errors.start', { error: errorMessage(err) }));
    });

    const showStatus = () => {
      const mqtt = fleet?.report();
      const e = eot?.report();
      this.status({
        fill: mqtt || e ? 'green' : 'grey',
        shape: 'dot',
        text: RED._('device-simulator.status.running', {
          mqtt: `${mqtt?.connected ?? 0}/${mqtt?.devices ?? 0}`,
          eot: `${e?.loggedIn ?? 0}/${e?.devices ?? 0}`,
        }),
      });
    };
    ticker = setInterval(showStatus, STATUS_EVERY_MS);
    ticker.unref();

    async function stop() {
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      eot?.stop();
      eot = undefined;
      await fleet?.stop();
      fleet = undefined;
    }

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      starting
        .catch(() => undefined)
        .then(stop)
        .then(done, done);
    });
  }
  RED.nodes.registerType('device-simulator', DeviceSimulatorNode);
};

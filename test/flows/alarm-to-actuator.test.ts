// A rule-triggered actuation end to end, in a real Node-RED runtime with the
// real registry and a real broker: a temperature reading raises an alarm in
// alarm-rules, whose action goes through actuator-command to a simulated
// shutter, and the shutter's status echo confirms the command.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NodeMessage } from 'node-red';
import type { CommandResult } from '../../lib/commands/types';
import actuatorCommand from '../../nodes/actuator-command/actuator-command';
import alarmRules from '../../nodes/alarm-rules/alarm-rules';
import registryNode from '../../nodes/sensflow-registry/sensflow-registry';
import type { RegistryConfigNode } from '../../nodes/sensflow-registry/registry-node';
import { TEST_BROKERS } from '../support/brokers';
import { waitFor } from '../support/net';
import { helper, load, startServer, stopServer } from '../support/node-helper';
import { SimulatedShutter } from '../support/shutter';

// Node-RED's core MQTT nodes ship no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');

const RULES = {
  rules: [
    {
      name: 'hot',
      alarm: 'Too hot',
      severity: 'major',
      per: 'location',
      conditions: {
        all: [
          { fact: 'kind', operator: 'equal', value: 'temperature' },
          { fact: 'value', operator: 'greaterThan', value: 28 },
        ],
      },
      actions: [{ on: 'raise', target: { kind: 'shutter' }, order: 'up' }],
    },
  ],
};

for (const [name, makeBroker] of TEST_BROKERS) {
  describe(`alarm action to an actuator (${name})`, function () {
    this.timeout(30_000);

    it('opens the shutters of a room that is too hot, confirmed by their echo', async () => {
      const broker = await makeBroker();
      const shutters: SimulatedShutter[] = [];
      await startServer();
      try {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-e2e-')), 'r.db');
        await load(
          [mqttNodes, registryNode, alarmRules, actuatorCommand],
          [
            { id: 'tab', type: 'tab' },
            { id: 'r', type: 'sensflow-registry', store: 'sqlite', file },
            { id: 'b', type: 'mqtt-broker', broker: '127.0.0.1', port: String(broker.port), protocolVersion: '4', autoConnect: true },
            { id: 'rules', type: 'alarm-rules', z: 'tab', registry: 'r', source: 'inline', rules: JSON.stringify(RULES), wires: [['alarms'], ['cmd'], []] },
            { id: 'cmd', type: 'actuator-command', z: 'tab', registry: 'r', broker: 'b', ackTimeout: 2, attempts: 3, ttl: 30, wires: [['results'], []] },
            { id: 'alarms', type: 'helper', z: 'tab' },
            { id: 'results', type: 'helper', z: 'tab' },
          ],
          broker.login ? { b: { user: broker.login.username, password: broker.login.password } } : {},
        );
        const registry = await (helper.getNode('r') as RegistryConfigNode).registry();
        await registry.customers.add({ id: 'acme', name: 'ACME' });
        await registry.types.save({ name: 'shutter_box', orders: { shutter: ['up', 'down', 'stop'] } });
        for (const id of ['s1', 's2']) {
          await registry.addDevice({ id, type: 'shutter_box', customerId: 'acme', location: 'u4/300' });
          shutters.push(await SimulatedShutter.start(broker.url, { id, base: 'u4/300', ...broker.login }));
        }
        const alarms: NodeMessage[] = [];
        const results: CommandResult[] = [];
        helper.getNode('alarms').on('input', (m: NodeMessage) => alarms.push(m));
        helper.getNode('results').on('input', (m: NodeMessage) => results.push(m.payload as CommandResult));
        await waitFor(async () => {
          if (!(helper.getNode('b') as unknown as { connected: boolean }).connected) throw new Error('not yet');
        }, 10_000);

        helper.getNode('rules').receive({ topic: 'u4/300/temperature', payload: { value: 31.5, value_units: 'celsius' } } as NodeMessage);

        await waitFor(async () => {
          if (results.length === 0) throw new Error('no result yet');
        }, 15_000);
        assert.equal(alarms.length, 1, 'one alarm raised');
        const result = results[0];
        assert.equal(result.state, 'confirmed');
        assert.equal(result.order, 'up');
        assert.deepEqual(Object.keys(result.units).sort(), ['s1', 's2']);
        assert.deepEqual(result.status, { s1: 'open', s2: 'open' });
        for (const s of shutters) assert.deepEqual(s.received.map((r) => r.order), ['up']);
      } finally {
        for (const s of shutters) await s.close();
        await stopServer();
        await broker.close();
      }
    });
  });
}

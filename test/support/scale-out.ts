// The scale-out acceptance test's setup (test/src/cli/scale-out.test.ts): the
// guide's Mosquitto service login, and the flows each instance runs for it.
import { execFileSync } from 'node:child_process';

export const dynsecAdmin = { user: 'admin', password: 'dynsec-admin-secret' };
export const service = { username: 'sensflow', password: 'sensflow-service-secret' };
export const ADMIN_PASSWORD = 'scale-out-admin-password';
export const IDS = ['s1', 's2', 's3'] as const;
export type Id = (typeof IDS)[number];

/** The guide's Mosquitto setup: a service client with every right, `$sensflow/#` included. */
export function addServiceClient(port: number) {
  const ctrl = (...args: string[]) =>
    execFileSync(
      'mosquitto_ctrl',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-u',
        dynsecAdmin.user,
        '-P',
        dynsecAdmin.password,
      ].concat(['dynsec', ...args]),
      { stdio: 'pipe' },
    );
  ctrl('createClient', service.username, '-p', service.password);
  ctrl('createRole', 'sensflow-service');
  for (const topic of ['#', '$sensflow/#']) {
    ctrl('addRoleACL', 'sensflow-service', 'publishClientSend', topic, 'allow');
    ctrl('addRoleACL', 'sensflow-service', 'subscribePattern', topic, 'allow');
  }
  ctrl('addClientRole', service.username, 'sensflow-service');
}

/** The test's own tab on one instance: readings through a shared subscription
 *  into history, an alarm rule on every instance's copy of the readings, and an
 *  actuator command taking orders on a topic of that instance. */
export function testFlows(id: Id): object[] {
  const z = 't-tab';
  const marker = (name: string, expression: string, next: string) => ({
    id: `t-${name}`,
    type: 'change',
    z,
    rules: [{ t: 'set', p: 'payload', pt: 'msg', to: expression, tot: 'jsonata' }],
    wires: [[next]],
  });
  const out = (name: string, topic: string) => ({
    id: `t-${name}`,
    type: 'mqtt out',
    z,
    topic,
    qos: '1',
    retain: 'false',
    broker: 'sf-broker',
    wires: [],
  });
  const mqttIn = (name: string, topic: string, next: string[], broker = 'sf-broker') => ({
    id: `t-${name}`,
    type: 'mqtt in',
    z,
    topic,
    qos: '1',
    datatype: 'json',
    broker,
    nl: false,
    rap: true,
    rh: 0,
    inputs: 0,
    wires: [next],
  });
  const rules = {
    rules: [
      {
        name: 'too-hot',
        alarm: 'Too hot',
        severity: 'major',
        per: 'location',
        conditions: {
          all: [
            { fact: 'kind', operator: 'equal', value: 'temperature' },
            { fact: 'value', operator: 'greaterThan', value: 30 },
          ],
        },
      },
    ],
  };
  return [
    { id: z, type: 'tab', label: 'scale-out test' },
    // A connection of its own: Node-RED hands every message a connection
    // receives to each of its mqtt in nodes whose topic matches, so the
    // default flow's `#` on sf-broker would deliver every reading here too.
    {
      id: 't-shared-broker',
      type: 'mqtt-broker',
      name: 'shared subscriptions',
      broker: '${SENSFLOW_MQTT_BROKER_HOST}',
      port: '${SENSFLOW_MQTT_BROKER_PORT}',
      clientid: '',
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '15',
      cleansession: true,
      credentials: { user: service.username, password: service.password },
    },
    mqttIn('readings', '$share/sensflow/test/readings/+', ['t-device'], 't-shared-broker'),
    {
      id: 't-device',
      type: 'change',
      z,
      rules: [{ t: 'set', p: 'deviceId', pt: 'msg', to: 'payload.id', tot: 'jsonata' }],
      wires: [['t-value', 't-processed']],
    },
    {
      id: 't-value',
      type: 'change',
      z,
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload.value', tot: 'msg' }],
      wires: [['t-history']],
    },
    {
      id: 't-store',
      type: 'history-store',
      name: 'default history',
      backend: 'default',
      precision: 'ms',
      create: false,
    },
    {
      id: 't-history',
      type: 'history-out',
      z,
      store: 't-store',
      measurement: 'scale_readings',
      tags: '',
      fieldTypes: '',
      maxFuture: '',
      wires: [],
    },
    marker(
      'processed',
      '{"instance": $env("SENSFLOW_INSTANCE_ID"), "id": payload.id}',
      't-out-processed',
    ),
    out('out-processed', 'test/processed'),
    mqttIn('temperature', 'u4/300/temperature', ['t-rules']),
    {
      id: 't-rules',
      type: 'alarm-rules',
      z,
      registry: 'sf-registry',
      source: 'inline',
      rules: JSON.stringify(rules),
      set: 'scale',
      wires: [['t-alarm'], [], []],
    },
    marker(
      'alarm',
      '{"instance": $env("SENSFLOW_INSTANCE_ID"), "event": transition.event, "alarm": payload.id}',
      't-out-alarms',
    ),
    out('out-alarms', 'test/alarms'),
    mqttIn('orders', `test/command/${id}`, ['t-order']),
    {
      id: 't-order',
      type: 'change',
      z,
      rules: [
        { t: 'set', p: 'target', pt: 'msg', to: 'payload.target', tot: 'msg' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'payload.order', tot: 'msg' },
      ],
      wires: [['t-actuator']],
    },
    {
      id: 't-actuator',
      type: 'actuator-command',
      z,
      registry: 'sf-registry',
      eot: 'sf-eot-server',
      customer: 'acme',
      ackTimeout: '30',
      attempts: '3',
      ttl: '300',
      wires: [['t-result'], []],
    },
    marker(
      'result',
      '{"instance": $env("SENSFLOW_INSTANCE_ID"), "result": payload}',
      't-out-results',
    ),
    out('out-results', 'test/results'),
    // Any node's error, for the test's messages when something fails.
    { id: 't-catch', type: 'catch', z, scope: null, uncaught: false, wires: [['t-error']] },
    marker(
      'error',
      '{"instance": $env("SENSFLOW_INSTANCE_ID"), "error": error.message, "source": error.source.id}',
      't-out-errors',
    ),
    out('out-errors', 'test/errors'),
  ];
}

// The campus sensors tab: MQTT → topic segment → device → history, alarm
// rules (and their actions) and the live charts of the Sensors page, filled
// from history for each browser when the page opens.
import { chart, Tab } from '../kit';
import { ECHO_KINDS, SENSOR_KINDS, UNITS } from './common';

export function sensorsTab(): Tab {
  const t = new Tab(
    'sf-tab-campus',
    'Campus: sensors',
    'MQTT sensors (topics.md, `<base>/<kind>` with `{"value", "value_units", "unitID"}`) by topic segment: readings of registered devices go to history (tagged with their customer), to the alarm rules (`rules/`) and to the live charts of the Sensors page; rule actions go to actuator-command. Statuses on `<base>/device` and actuator echoes go to the Fleet and Actuators tabs.\n\nFor deeper base topics than `building/room`, add a second `broker-in` node on `+/+/+/+` wired like this one.',
  );
  t.comment('sf-c-about', [0, 0], 'MQTT → topic segment → device → history, rules, live chart');
  // broker-in takes the readings from the embedded broker in process (one
  // MQTT parse per reading instead of two), or subscribes as `mqtt in` would
  // to an external broker. QoS 0 from the broker to the flow: devices publish
  // at QoS 1 and the broker acknowledges them; over a connection this
  // subscription has a clean session, so a QoS 1 message in flight would be
  // dropped on a reconnect all the same, and at QoS 1 the embedded broker
  // writes every reading to its on-disk in-flight store and back.
  t.brokerIn('sf-c-mqtt', [0, 1], 'data and status', '+/+/+', [['sf-c-segment']]);
  const kinds = [...SENSOR_KINDS, 'device', ...ECHO_KINDS];
  t.add(
    'topic-segment',
    'sf-c-segment',
    [1, 1],
    {
      name: 'by kind',
      mode: 'parse',
      site: '',
      routeBy: 'kind',
      rules: kinds.map((v) => ({ v })),
      base: '',
      kind: '',
      topicType: 'data',
      outputs: kinds.length + 1,
    },
    [
      ...SENSOR_KINDS.map(() => ['sf-c-lookup']),
      ['sf-c-status-id'],
      ...ECHO_KINDS.map(() => ['sf-c-echoes']),
      [],
    ],
  );
  t.add(
    'device-lookup',
    'sf-c-lookup',
    [2, 1],
    { name: 'device at base', registry: 'sf-registry' },
    [['sf-c-reading']],
  );
  // A registered device's reading: tagged with its customer for history and
  // the rules, each given its own small message (one message wired to both
  // would be deep-copied for the second), and its point batched once a second
  // for the live charts.
  t.add('sensor-reading', 'sf-c-reading', [3, 1], { name: 'reading', period: 1 }, [
    ['sf-c-history'],
    ['sf-c-rules'],
    ['sf-c-chart-kind'],
  ]);
  t.add(
    'history-out',
    'sf-c-history',
    [4, 0],
    {
      name: 'sensor history',
      store: 'sf-history',
      measurement: '',
      tags: '',
      fieldTypes: '',
      maxFuture: '',
    },
    [],
  );
  t.add(
    'alarm-rules',
    'sf-c-rules',
    [4, 2],
    {
      name: 'alarm rules',
      registry: 'sf-registry',
      source: 'folder',
      path: 'rules',
      rules: '{\n  "rules": []\n}',
      set: '',
    },
    [['sf-c-alarm-debug'], ['sf-c-rule-cmd'], []],
  );
  t.debug('sf-c-alarm-debug', [5, 1], 'alarm changes');
  t.orders(
    'sf-c-rule-cmd',
    [5, 2],
    'rule actions',
    { eot: true, ackTimeout: 10, attempts: 3, ttl: 300 },
    [['sf-c-cmd-debug'], []],
  );
  t.debug('sf-c-cmd-debug', [6, 2], 'rule command results');
  t.linkIn('sf-c-from-watchdog', [3, 3], 'watchdog events', ['sf-f-to-rules'], [['sf-c-rules']]);

  // Device status: a sign of life for the Fleet page.
  t.fn(
    'sf-c-status-id',
    [2, 4],
    'device named?',
    `
// Several devices may share a base: the status names its sender.
const p = msg.payload;
const named = p !== null && typeof p === 'object' ? p.deviceId || p.id || p.unitID : undefined;
if (typeof named === 'string') msg.deviceId = named;
return msg;`,
    [['sf-c-status-lookup']],
  );
  t.add(
    'device-lookup',
    'sf-c-status-lookup',
    [3, 4],
    { name: 'device', registry: 'sf-registry' },
    [['sf-c-seen']],
  );
  t.fn(
    'sf-c-seen',
    [4, 4],
    'seen',
    `
const d = msg.device;
if (!d) return null;
return { topic: 'seen', _customer: d.customerId, payload: { id: d.id, lastSeen: Date.now() } };`,
    [['sf-c-to-fleet']],
  );
  t.linkOut('sf-c-to-fleet', [5, 4], 'to the Fleet page', ['sf-f-from-sensors']);
  t.linkOut('sf-c-echoes', [2, 5], 'actuator echoes', ['sf-u-from-sensors']);

  // The Sensors page: charts filled from history for each browser, then live.
  t.template('sf-sensors-range', [0, 7], 'time range', 'sf-group-range', 'range', 1, [
    ['sf-c-queries'],
  ]);
  t.fn(
    'sf-c-queries',
    [1, 7],
    'one query per chart',
    `
// One history query per kind, over the range asked (1h, 6h, 24h, 7d), one
// line per location; for this browser only (msg._client is kept).
const range = /^\\d+[hd]$/.test(String(msg.payload)) ? String(msg.payload) : '6h';
const kinds = ${JSON.stringify(SENSOR_KINDS)};
return [kinds.map((kind) => ({ _client: msg._client, kind, measurement: kind, from: range, groupBy: ['location'] }))];`,
    [['sf-c-range-access']],
  );
  t.add(
    'dashboard-access',
    'sf-c-range-access',
    [2, 7],
    { name: 'user', registry: 'sf-registry', require: 'view' },
    [['sf-c-customer-tag'], []],
  );
  t.fn(
    'sf-c-customer-tag',
    [3, 7],
    "the user's customer",
    `
// A user of one customer reads only that customer's series.
if (msg.customerId) msg.tags = { customer: msg.customerId };
return msg;`,
    [['sf-c-query']],
  );
  t.add(
    'history-query',
    'sf-c-query',
    [4, 7],
    {
      name: 'history',
      store: 'sf-history',
      measurement: '',
      field: '',
      tags: '',
      groupBy: '',
      range: '6h',
      aggregation: 'mean',
      interval: '',
      maxPoints: '300',
      retentionPolicy: '',
    },
    [['sf-c-chart-kind']],
  );
  t.add(
    'switch',
    'sf-c-chart-kind',
    [5, 7],
    {
      name: 'chart',
      property: 'kind',
      propertyType: 'msg',
      rules: SENSOR_KINDS.map((v) => ({ t: 'eq', v, vt: 'str' })),
      checkall: 'false',
      repair: false,
      outputs: SENSOR_KINDS.length,
    },
    SENSOR_KINDS.map((k) => [`sf-chart-${k}`]),
  );
  SENSOR_KINDS.forEach((k, i) =>
    chart(t, `sf-chart-${k}`, [6, 6 + i], k === 'co2' ? 'CO2' : k, `sf-group-${k}`, 1, UNITS[k]),
  );
  return t;
}

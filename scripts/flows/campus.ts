// flows/campus.json (seed 002, sensOCampus): MQTT sensors by topic segment →
// history, alarm rules and live charts; rules → shutter, lighting and
// ventilation commands; device status → watchdog → the Fleet page; the
// Alarms and Actuators pages. Every page shows a dashboard user only their
// customer's devices (dashboard-access, device-list and `msg._customer`).
import { chart, FlowNode, Tab, uiGroup, uiPage } from './kit';
import { broker, eotServer, history, registry, uiBase, uiTheme } from './shared';

export const SENSOR_KINDS = ['temperature', 'humidity', 'co2', 'luminosity'];
const ECHO_KINDS = ['shutter', 'lighting', 'ventilation', 'relay'];
const UNITS: Record<string, string> = {
  temperature: '°C',
  humidity: '%',
  co2: 'ppm',
  luminosity: 'lux',
};

const pages: FlowNode[] = [
  uiPage('sf-page-fleet', 'Fleet', '/fleet', 'devices', 2),
  uiGroup('sf-group-fleet', 'Devices', 'sf-page-fleet', 12, 1),
  uiPage('sf-page-sensors', 'Sensors', '/sensors', 'chart-line', 3),
  uiGroup('sf-group-range', 'Time range', 'sf-page-sensors', 12, 1, false),
  ...SENSOR_KINDS.map((k, i) =>
    uiGroup(
      `sf-group-${k}`,
      k === 'co2' ? 'CO2' : k[0].toUpperCase() + k.slice(1),
      'sf-page-sensors',
      6,
      i + 2,
    ),
  ),
  uiPage('sf-page-alarms', 'Alarms', '/alarms', 'alarm-light', 4),
  uiGroup('sf-group-alarms', 'Alarms', 'sf-page-alarms', 12, 1, false),
  uiPage('sf-page-actuators', 'Actuators', '/actuators', 'window-shutter', 5),
  uiGroup(
    'sf-group-actuators',
    'Shutters, lighting and other actuators',
    'sf-page-actuators',
    12,
    1,
  ),
];

/** A refused dashboard action: a note for that browser, and a notification. */
function refused(topic: string, payload: string): string {
  return `
// msg.refused says why (dashboard-access); only this browser hears of it.
const p = msg.payload || {};
return [
  { _client: msg._client, topic: '${topic}', payload: ${payload} },
  { _client: msg._client, payload: 'Refused: ' + msg.refused },
];`;
}

function sensors(): Tab {
  const t = new Tab(
    'sf-tab-campus',
    'Campus: sensors',
    'MQTT sensors (topics.md, `<base>/<kind>` with `{"value", "value_units", "unitID"}`) by topic segment: readings of registered devices go to history (tagged with their customer), to the alarm rules (`rules/`) and to the live charts of the Sensors page; rule actions go to actuator-command. Statuses on `<base>/device` and actuator echoes go to the Fleet and Actuators tabs.\n\nFor deeper base topics than `building/room`, add `+/+/+/+` to the MQTT node.',
  );
  t.comment('sf-c-about', [0, 0], 'MQTT → topic segment → device → history, rules, live chart');
  t.mqttIn('sf-c-mqtt', [0, 1], 'data and status', '+/+/+', [['sf-c-segment']]);
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
  t.fn(
    'sf-c-reading',
    [3, 1],
    'reading',
    `
// A registered device's reading: tagged with its customer for history and the
// rules, marked for that customer's browsers, and a point for the live chart.
const p = msg.payload;
const value = p !== null && typeof p === 'object' ? p.value : p;
if (typeof value !== 'number' || !Number.isFinite(value)) return null;
const devices = msg.devices || (msg.device ? [msg.device] : []);
const named = p !== null && typeof p === 'object' ? p.unitID : undefined;
const device = devices.find((d) => d.id === named) || msg.device || devices[0];
if (!device) return null; // nobody registered publishes here
const location = msg.segments.location.join('/');
msg.deviceId = device.id;
msg.tags = { customer: device.customerId };
msg._customer = device.customerId;
const point = {
  topic: location,
  kind: msg.segments.kind,
  _customer: device.customerId,
  payload: { x: Date.now(), y: value, series: location },
};
return [msg, point];`,
    [['sf-c-history', 'sf-c-rules'], ['sf-c-chart-kind']],
  );
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
  t.add(
    'actuator-command',
    'sf-c-rule-cmd',
    [5, 2],
    {
      name: 'rule actions',
      registry: 'sf-registry',
      broker: 'sf-broker',
      eot: 'sf-eot-server',
      base: '',
      kind: '',
      order: '',
      dest: 'all',
      customer: '',
      ackTimeout: 10,
      attempts: 3,
      ttl: 300,
      queueLimit: 1000,
    },
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

function fleet(): Tab {
  const t = new Tab(
    'sf-tab-fleet',
    'Campus: fleet',
    'The Fleet page: every device of the registry (a dashboard user sees their customer\'s) with its state, last status and reboot/reinstall orders. device-watchdog turns silent devices red at once and notifies; statuses heard on MQTT update "last seen".',
  );
  t.template('sf-fleet-view', [4, 1], 'fleet', 'sf-group-fleet', 'fleet', 1, [['sf-f-ask']]);
  t.byTopic('sf-f-ask', [0, 2], 'asks', ['refresh', 'command'], [['sf-f-view'], ['sf-f-which']]);
  t.add(
    'dashboard-access',
    'sf-f-view',
    [1, 2],
    { name: 'user', registry: 'sf-registry', require: 'view' },
    [['sf-f-list'], []],
  );
  t.add(
    'device-list',
    'sf-f-list',
    [2, 2],
    {
      name: "the user's devices",
      registry: 'sf-registry',
      fields: 'firmware: Firmware, free_mem: Free memory, sensors: Sensors, uptime: Uptime (s)',
      limit: '',
    },
    [['sf-f-snapshot']],
  );
  t.fn(
    'sf-f-snapshot',
    [3, 2],
    'snapshot',
    `return { _client: msg._client, topic: 'snapshot', payload: msg.payload };`,
    [['sf-fleet-view']],
  );

  // Orders: reboot and reinstall, through actuator-command (MQTT or EOT).
  t.fn(
    'sf-f-which',
    [1, 3],
    'which device',
    `
const p = msg.payload || {};
if (p.order !== 'reboot' && p.order !== 'reinstall') return null;
msg.deviceId = String(p.deviceId);
return msg;`,
    [['sf-f-operate']],
  );
  t.add(
    'dashboard-access',
    'sf-f-operate',
    [2, 3],
    { name: 'operator of that customer?', registry: 'sf-registry', require: 'operate' },
    [['sf-f-lookup'], ['sf-f-refused']],
  );
  t.add('device-lookup', 'sf-f-lookup', [3, 3], { name: 'device', registry: 'sf-registry' }, [
    ['sf-f-order'],
  ]);
  t.fn(
    'sf-f-order',
    [4, 3],
    'device order',
    `
// MQTT: {order, dest} on <base>/device/command; EOT (configuration says
// "transport": "eot"): WRITE|device|<order>.
const d = msg.device;
if (!d) return null;
const order = msg.payload.order;
msg.forDevice = d.id;
msg._customer = d.customerId;
if (d.config && d.config.transport === 'eot') {
  msg.target = { deviceId: d.id, actuator: 'device' };
  msg.payload = order;
} else {
  msg.target = { base: d.location, kind: 'device' };
  msg.payload = { order, dest: d.id };
}
return msg;`,
    [['sf-f-cmd']],
  );
  t.add(
    'actuator-command',
    'sf-f-cmd',
    [5, 3],
    {
      name: 'device orders',
      registry: 'sf-registry',
      broker: 'sf-broker',
      eot: 'sf-eot-server',
      base: '',
      kind: '',
      order: '',
      dest: 'all',
      customer: '',
      ackTimeout: 10,
      attempts: 2,
      ttl: 120,
      queueLimit: 1000,
    },
    [['sf-f-result'], []],
  );
  t.fn(
    'sf-f-result',
    [6, 3],
    'result',
    `
const r = msg.payload;
const text = r.state === 'confirmed' ? r.order + ' confirmed in ' + r.latencyMs + ' ms' : r.order + ': ' + r.state;
return { _client: msg._client, _customer: msg._customer, topic: 'result', payload: { deviceId: msg.forDevice || r.dest, state: r.state, text } };`,
    [['sf-fleet-view']],
  );
  t.fn(
    'sf-f-refused',
    [3, 4],
    'refused',
    refused(
      'result',
      "{ deviceId: p.deviceId, state: 'refused', text: 'refused: ' + msg.refused }",
    ),
    [['sf-fleet-view'], ['sf-f-notify']],
  );
  t.catchAll('sf-f-catch', [5, 5], 'order failed', ['sf-f-lookup', 'sf-f-cmd'], [['sf-f-failed']]);
  t.fn(
    'sf-f-failed',
    [6, 5],
    'failed',
    `return { _client: msg._client, topic: 'result', payload: { deviceId: msg.deviceId, state: 'refused', text: msg.error.message } };`,
    [['sf-fleet-view']],
  );

  // Live: the watchdog's events turn rows red (or back) and notify.
  t.add(
    'device-watchdog',
    'sf-f-watchdog',
    [0, 6],
    { name: 'watchdog', registry: 'sf-registry', repeat: 60 },
    [['sf-f-event', 'sf-f-to-rules']],
  );
  t.linkOut('sf-f-to-rules', [1, 7], 'to the alarm rules', ['sf-c-from-watchdog']);
  t.fn(
    'sf-f-event',
    [1, 6],
    'event',
    `
msg.deviceId = msg.payload.deviceId;
msg.event = msg.payload;
return msg;`,
    [['sf-f-row-list']],
  );
  t.add(
    'device-list',
    'sf-f-row-list',
    [2, 6],
    {
      name: 'its row',
      registry: 'sf-registry',
      fields: 'firmware: Firmware, free_mem: Free memory, sensors: Sensors, uptime: Uptime (s)',
      limit: '',
    },
    [['sf-f-row']],
  );
  t.fn(
    'sf-f-row',
    [3, 6],
    'row, notice',
    `
// The event is fresher than the store (signs of life are written in batches).
const row = msg.payload[0];
if (!row) return null;
const ev = msg.event;
row.state = ev.state === 'outdated' ? 'outdated' : 'online';
if (ev.lastSeen) row.lastSeen = ev.lastSeen;
const update = { topic: 'row', _customer: row.customerId, payload: [row] };
if (ev.state !== 'outdated' || ev.repeat) return [update, null];
const since = ev.lastSeen ? new Date(ev.lastSeen).toLocaleString() : 'ever';
return [update, { _customer: row.customerId, payload: 'Device ' + row.id + ' (' + row.location + ') is outdated: silent since ' + since }];`,
    [['sf-fleet-view'], ['sf-f-notify']],
  );
  t.notification('sf-f-notify', [4, 7], 'fleet notices');
  t.linkIn('sf-f-from-sensors', [3, 0], 'signs of life', ['sf-c-to-fleet'], [['sf-fleet-view']]);
  return t;
}

function alarms(): Tab {
  const t = new Tab(
    'sf-tab-alarms',
    'Campus: alarms',
    "The Alarms page: open alarms by severity with acknowledge, shelve, unshelve and clear (alarm-control, operators of the alarm's customer only), and the last closed ones. Every alarm change of the store reaches the page at once.",
  );
  t.template('sf-alarms-view', [4, 1], 'alarms', 'sf-group-alarms', 'alarms', 1, [['sf-a-ask']]);
  t.byTopic('sf-a-ask', [0, 2], 'asks', ['refresh', 'act'], [['sf-a-lists'], ['sf-a-action']]);
  t.fn(
    'sf-a-lists',
    [1, 2],
    'open and closed',
    `
const open = RED.util.cloneMessage(msg);
open.part = 'active';
open.payload = { action: 'list', state: 'open', limit: 500 };
const closed = RED.util.cloneMessage(msg);
closed.part = 'history';
closed.payload = { action: 'list', state: 'closed', limit: 50 };
return [[open, closed]];`,
    [['sf-a-view']],
  );
  t.add(
    'dashboard-access',
    'sf-a-view',
    [2, 2],
    { name: 'user', registry: 'sf-registry', require: 'view' },
    [['sf-a-control'], []],
  );
  t.fn(
    'sf-a-action',
    [1, 3],
    'action',
    `
const p = msg.payload || {};
if (!['acknowledge', 'shelve', 'unshelve', 'clear'].includes(p.action)) return null;
msg.payload = { action: p.action, alarmId: String(p.alarmId), comment: 'from the dashboard' };
if (p.action === 'shelve') msg.payload.duration = p.duration || '1h';
return msg;`,
    [['sf-a-operate']],
  );
  t.add(
    'dashboard-access',
    'sf-a-operate',
    [2, 3],
    { name: 'operator of that customer?', registry: 'sf-registry', require: 'operate' },
    [['sf-a-control'], ['sf-a-refused']],
  );
  t.fn(
    'sf-a-refused',
    [3, 4],
    'refused',
    refused('refused', '{ alarmId: p.alarmId, reason: msg.refused }'),
    [['sf-alarms-view'], ['sf-a-notify']],
  );
  t.add(
    'alarm-control',
    'sf-a-control',
    [3, 2],
    { name: 'alarms', registry: 'sf-registry', action: 'msg', user: '', watch: false },
    [['sf-a-page'], []],
  );
  t.fn(
    'sf-a-page',
    [4, 3],
    'to the page',
    `
if (msg.action === 'list') return { _client: msg._client, topic: msg.part, payload: msg.payload };
return { _client: msg._client, topic: 'done', payload: msg.payload };`,
    [['sf-alarms-view']],
  );
  t.catchAll('sf-a-catch', [3, 5], 'action failed', ['sf-a-control'], [['sf-a-failed']]);
  t.fn(
    'sf-a-failed',
    [4, 5],
    'failed',
    `return { _client: msg._client, payload: 'Alarm: ' + msg.error.message };`,
    [['sf-a-notify']],
  );

  // Live: every change of the store's alarms, for the alarm's customer.
  t.add(
    'alarm-control',
    'sf-a-watch',
    [0, 6],
    { name: 'every alarm change', registry: 'sf-registry', action: 'get', user: '', watch: true },
    [[], ['sf-a-change']],
  );
  t.fn(
    'sf-a-change',
    [1, 6],
    'change, notice',
    `
// An alarm of no single customer is for the users of every customer ('-').
const a = msg.payload;
const customer = a.customerId || '-';
const change = { topic: 'change', _customer: customer, payload: a };
const t = msg.transition || {};
// Outdated devices are announced by the Fleet tab already.
const news = ['raise', 'reraise', 'escalate'].includes(t.event) && !a.shelvedUntil && a.kind !== 'device';
const where = a.location || a.deviceId || '';
return [change, news ? { _customer: customer, payload: a.severity.toUpperCase() + ': ' + a.name + (where ? ' (' + where + ')' : '') } : null];`,
    [['sf-alarms-view'], ['sf-a-notify']],
  );
  t.notification('sf-a-notify', [5, 6], 'alarm notices');
  return t;
}

function actuators(): Tab {
  const t = new Tab(
    'sf-tab-actuators',
    'Campus: actuators',
    'The Actuators page: shutters (up, stop, down), lighting (on, off, level) and other actuators per room. The state shown is the one the unit confirmed in its status echo (`{"order": "idle", "unitID", "status"}` on `<base>/<kind>`), never the order sent; actuator-command reports whether each order was confirmed.',
  );
  t.linkIn('sf-u-from-sensors', [0, 0], 'actuator echoes', ['sf-c-echoes'], [['sf-u-echo']]);
  t.fn(
    'sf-u-echo',
    [1, 0],
    'echo',
    `
const p = msg.payload;
if (p === null || typeof p !== 'object' || typeof p.unitID !== 'string' || p.status === undefined) return null;
msg.deviceId = p.unitID;
msg.kind = msg.segments.kind;
return msg;`,
    [['sf-u-echo-lookup']],
  );
  t.add('device-lookup', 'sf-u-echo-lookup', [2, 0], { name: 'unit', registry: 'sf-registry' }, [
    ['sf-u-state'],
  ]);
  t.fn(
    'sf-u-state',
    [3, 0],
    'confirmed state',
    `
const d = msg.device;
if (!d) return null;
const status = String(msg.payload.status);
const at = Date.now();
const states = flow.get('states') || {};
states[d.id + '/' + msg.kind] = { status, at };
flow.set('states', states);
return { topic: 'state', _customer: d.customerId, payload: { id: d.id, kind: msg.kind, status, at } };`,
    [['sf-actuators-view']],
  );
  t.template('sf-actuators-view', [4, 1], 'actuators', 'sf-group-actuators', 'actuators', 1, [
    ['sf-u-ask'],
  ]);
  t.byTopic('sf-u-ask', [0, 2], 'asks', ['refresh', 'command'], [['sf-u-view'], ['sf-u-which']]);
  t.add(
    'dashboard-access',
    'sf-u-view',
    [1, 2],
    { name: 'user', registry: 'sf-registry', require: 'view' },
    [['sf-u-list'], []],
  );
  t.add(
    'device-list',
    'sf-u-list',
    [2, 2],
    { name: "the user's devices", registry: 'sf-registry', fields: '', limit: '' },
    [['sf-u-units']],
  );
  t.fn(
    'sf-u-units',
    [3, 2],
    'units',
    `
// A unit per device and actuator kind its type lists orders for.
const states = flow.get('states') || {};
const units = [];
for (const d of msg.payload) {
  if (!d.enabled || !d.orders) continue;
  for (const kind of Object.keys(d.orders)) {
    if (kind === 'device') continue;
    const s = states[d.id + '/' + kind] || {};
    units.push({ id: d.id, kind, location: d.location, orders: d.orders[kind], status: s.status, at: s.at });
  }
}
return { _client: msg._client, topic: 'units', payload: units };`,
    [['sf-actuators-view']],
  );
  t.fn(
    'sf-u-which',
    [1, 3],
    'which unit',
    `
const p = msg.payload || {};
if (typeof p.deviceId !== 'string' || typeof p.kind !== 'string' || p.order === undefined) return null;
msg.deviceId = p.deviceId;
return msg;`,
    [['sf-u-operate']],
  );
  t.add(
    'dashboard-access',
    'sf-u-operate',
    [2, 3],
    { name: 'operator of that customer?', registry: 'sf-registry', require: 'operate' },
    [['sf-u-lookup'], ['sf-u-refused']],
  );
  t.add('device-lookup', 'sf-u-lookup', [3, 3], { name: 'unit', registry: 'sf-registry' }, [
    ['sf-u-order'],
  ]);
  t.fn(
    'sf-u-order',
    [4, 3],
    'order',
    `
const d = msg.device;
if (!d) return null;
const p = msg.payload;
msg.unit = { id: d.id, kind: p.kind };
msg._customer = d.customerId;
msg.target = { base: d.location, kind: p.kind };
msg.payload = { order: p.order, dest: d.id };
return msg;`,
    [['sf-u-cmd']],
  );
  t.add(
    'actuator-command',
    'sf-u-cmd',
    [5, 3],
    {
      name: 'orders',
      registry: 'sf-registry',
      broker: 'sf-broker',
      eot: '',
      base: '',
      kind: '',
      order: '',
      dest: 'all',
      customer: '',
      ackTimeout: 5,
      attempts: 2,
      ttl: 60,
      queueLimit: 1000,
    },
    [['sf-u-result'], []],
  );
  t.fn(
    'sf-u-result',
    [6, 3],
    'result',
    `
const r = msg.payload;
const unit = msg.unit || {};
const echoed = r.status !== null && typeof r.status === 'object' ? r.status.status : r.status;
const text = r.state === 'confirmed'
  ? '"' + r.order + '" confirmed: ' + echoed + ' (' + r.latencyMs + ' ms)'
  : '"' + r.order + '" ' + r.state + ': no confirmation from the unit';
return { _client: msg._client, _customer: msg._customer, topic: 'result', payload: { id: unit.id, kind: unit.kind, state: r.state, text } };`,
    [['sf-actuators-view']],
  );
  t.fn(
    'sf-u-refused',
    [3, 4],
    'refused',
    refused(
      'result',
      "{ id: p.deviceId, kind: p.kind, state: 'refused', text: 'refused: ' + msg.refused }",
    ),
    [['sf-actuators-view'], ['sf-u-notify']],
  );
  t.catchAll('sf-u-catch', [5, 5], 'order failed', ['sf-u-lookup', 'sf-u-cmd'], [['sf-u-failed']]);
  t.fn(
    'sf-u-failed',
    [6, 5],
    'failed',
    `
const unit = msg.unit || { id: msg.deviceId };
return [
  { _client: msg._client, topic: 'result', payload: { id: unit.id, kind: unit.kind, state: 'refused', text: msg.error.message } },
  { _client: msg._client, payload: 'Order refused: ' + msg.error.message },
];`,
    [['sf-actuators-view'], ['sf-u-notify']],
  );
  t.notification('sf-u-notify', [4, 5], 'actuator notices');
  return t;
}

export function campus(): FlowNode[] {
  return [
    ...[sensors(), fleet(), alarms(), actuators()].flatMap((t) => t.nodes),
    ...pages,
    uiBase,
    uiTheme,
    broker,
    registry,
    history,
    eotServer,
  ];
}

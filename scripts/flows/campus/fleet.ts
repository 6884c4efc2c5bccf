// The Fleet page: every device a user may see, its state and last status;
// reboot and reinstall orders; device-watchdog's events turn rows red.
import { Tab } from '../kit';
import { refused } from './common';

export function fleetTab(): Tab {
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
  t.operatorCheck('sf-f-operate', [2, 3], [['sf-f-lookup'], ['sf-f-refused']]);
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
  t.orders(
    'sf-f-cmd',
    [5, 3],
    'device orders',
    { eot: true, ackTimeout: 10, attempts: 2, ttl: 120 },
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

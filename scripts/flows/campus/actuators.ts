// The Actuators page: each unit's state as it confirmed it in its echo, and
// orders through actuator-command.
import { Tab } from '../kit';
import { refused } from './common';

export function actuatorsTab(): Tab {
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
  t.operatorCheck('sf-u-operate', [2, 3], [['sf-u-lookup'], ['sf-u-refused']]);
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
  t.orders('sf-u-cmd', [5, 3], 'orders', { ackTimeout: 5, attempts: 2, ttl: 60 }, [
    ['sf-u-result'],
    [],
  ]);
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

// flows/smart-home.json (seed 004): room thermometers publish on
// `home/<room>/temperature` (retained, so the page has the last values at
// once, also after a restart) to live widgets; relays on `home/<room>/relay`
// take on/off orders through actuator-command and show the state they
// confirmed in their status echo.
import { FlowNode, Tab, uiGroup, uiPage } from './kit';
import { broker, registry, uiBase, uiTheme } from './shared';

/** The building of the home in topics (`home/<room>/…`). */
const HOME = 'home';

function home(): Tab {
  const t = new Tab(
    'sf-tab-home',
    'Smart home',
    `Room temperatures on \`${HOME}/<room>/temperature\` and relays on \`${HOME}/<room>/relay\` (topics.md). The thermometers publish retained values, so the Home page shows each room's last temperature as soon as the flow starts. Relay orders go through actuator-command; the state shown is the one the relay echoed.`,
  );
  t.mqttIn('sf-h-temp-in', [0, 0], 'room temperatures', `${HOME}/+/temperature`, [
    ['sf-h-temp-lookup'],
  ]);
  t.add(
    'device-lookup',
    'sf-h-temp-lookup',
    [1, 0],
    { name: 'thermometer', registry: 'sf-registry' },
    [['sf-h-room']],
  );
  t.fn(
    'sf-h-room',
    [2, 0],
    'room',
    `
const p = msg.payload;
const value = p !== null && typeof p === 'object' ? p.value : p;
if (typeof value !== 'number') return null;
const devices = msg.devices || [];
const d = devices.find((x) => p && x.id === p.unitID) || msg.device || devices[0];
if (!d) return null;
const location = msg.topic.split('/').slice(0, -1).join('/');
const rooms = flow.get('rooms') || {};
rooms[location] = { location, room: location.split('/').pop(), customerId: d.customerId, temperature: value, at: Date.now() };
flow.set('rooms', rooms);
return { topic: 'room', _customer: d.customerId, payload: rooms[location] };`,
    [['sf-home-view']],
  );
  t.mqttIn('sf-h-relay-in', [0, 1], 'relay echoes', `${HOME}/+/relay`, [['sf-h-echo']]);
  t.fn(
    'sf-h-echo',
    [1, 1],
    'echo',
    `
const p = msg.payload;
if (p === null || typeof p !== 'object' || typeof p.unitID !== 'string' || p.status === undefined) return null;
msg.deviceId = p.unitID;
return msg;`,
    [['sf-h-echo-lookup']],
  );
  t.add('device-lookup', 'sf-h-echo-lookup', [2, 1], { name: 'relay', registry: 'sf-registry' }, [
    ['sf-h-relay-state'],
  ]);
  t.fn(
    'sf-h-relay-state',
    [3, 1],
    'confirmed state',
    `
const d = msg.device;
if (!d) return null;
const status = String(msg.payload.status);
const at = Date.now();
const relays = flow.get('relays') || {};
relays[d.id] = { status, at };
flow.set('relays', relays);
return { topic: 'relay', _customer: d.customerId, payload: { id: d.id, location: d.location, status, at } };`,
    [['sf-home-view']],
  );

  t.template('sf-home-view', [4, 2], 'home', 'sf-group-home', 'home', 1, [['sf-h-ask']]);
  t.byTopic('sf-h-ask', [0, 3], 'asks', ['refresh', 'command'], [['sf-h-view'], ['sf-h-which']]);
  t.add(
    'dashboard-access',
    'sf-h-view',
    [1, 3],
    { name: 'user', registry: 'sf-registry', require: 'view' },
    [['sf-h-list'], []],
  );
  t.add(
    'device-list',
    'sf-h-list',
    [2, 3],
    { name: "the user's devices", registry: 'sf-registry', fields: '', limit: '' },
    [['sf-h-rooms']],
  );
  t.fn(
    'sf-h-rooms',
    [3, 3],
    'rooms',
    `
// The rooms heard from, and the relays of the home (devices whose type
// takes relay orders), for the user's customer (msg.customerId when one).
const home = ${JSON.stringify(HOME)} + '/';
const own = msg.customerId;
const rooms = flow.get('rooms') || {};
const relays = flow.get('relays') || {};
const byLocation = {};
for (const r of Object.values(rooms))
  if (!own || r.customerId === own) byLocation[r.location] = Object.assign({}, r, { relays: [] });
for (const d of msg.payload) {
  if (!d.enabled || !d.orders || !d.orders.relay || !d.location.startsWith(home)) continue;
  const room = byLocation[d.location] || (byLocation[d.location] = { location: d.location, room: d.location.split('/').pop(), relays: [] });
  const s = relays[d.id] || {};
  room.relays.push({ id: d.id, status: s.status, at: s.at });
}
return { _client: msg._client, topic: 'rooms', payload: Object.values(byLocation) };`,
    [['sf-home-view']],
  );
  t.fn(
    'sf-h-which',
    [1, 4],
    'which relay',
    `
const p = msg.payload || {};
if (typeof p.deviceId !== 'string' || (p.order !== 'on' && p.order !== 'off')) return null;
msg.deviceId = p.deviceId;
return msg;`,
    [['sf-h-operate']],
  );
  t.operatorCheck('sf-h-operate', [2, 4], [['sf-h-lookup'], ['sf-h-refused']]);
  t.add('device-lookup', 'sf-h-lookup', [3, 4], { name: 'relay', registry: 'sf-registry' }, [
    ['sf-h-order'],
  ]);
  t.fn(
    'sf-h-order',
    [4, 4],
    'order',
    `
const d = msg.device;
if (!d) return null;
msg.relay = d.id;
msg._customer = d.customerId;
msg.target = { base: d.location, kind: 'relay' };
msg.payload = { order: msg.payload.order, dest: d.id };
return msg;`,
    [['sf-h-cmd']],
  );
  t.orders('sf-h-cmd', [5, 4], 'relay orders', { ackTimeout: 5, attempts: 2, ttl: 60 }, [
    ['sf-h-result'],
    [],
  ]);
  t.fn(
    'sf-h-result',
    [6, 4],
    'result',
    `
const r = msg.payload;
const text = r.state === 'confirmed' ? '"' + r.order + '" confirmed (' + r.latencyMs + ' ms)' : '"' + r.order + '" ' + r.state + ': the relay did not confirm';
return { _client: msg._client, _customer: msg._customer, topic: 'result', payload: { id: msg.relay, state: r.state, text } };`,
    [['sf-home-view']],
  );
  t.fn(
    'sf-h-refused',
    [3, 5],
    'refused',
    `
return [
  { _client: msg._client, topic: 'result', payload: { id: msg.payload && msg.payload.deviceId, state: 'refused', text: 'refused: ' + msg.refused } },
  { _client: msg._client, payload: 'Refused: ' + msg.refused },
];`,
    [['sf-home-view'], ['sf-h-notify']],
  );
  t.catchAll('sf-h-catch', [5, 6], 'order failed', ['sf-h-lookup', 'sf-h-cmd'], [['sf-h-failed']]);
  t.fn(
    'sf-h-failed',
    [6, 6],
    'failed',
    `return { _client: msg._client, topic: 'result', payload: { id: msg.relay || msg.deviceId, state: 'refused', text: msg.error.message } };`,
    [['sf-home-view']],
  );
  t.notification('sf-h-notify', [4, 5], 'home notices');
  return t;
}

const pages: FlowNode[] = [
  uiPage('sf-page-home', 'Home', '/home', 'home-thermometer', 7),
  uiGroup('sf-group-home', 'Rooms', 'sf-page-home', 12, 1),
];

export function smartHome(): FlowNode[] {
  return [...home().nodes, ...pages, uiBase, uiTheme, broker, registry];
}

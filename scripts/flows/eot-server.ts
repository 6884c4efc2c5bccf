// flows/eot-server.json (seed 000): the EOT device server with its login
// (AUTH2 and the seed's AUTH), routing between devices of a customer, device
// alarms re-sent to subscribers and events stored (by the server itself),
// readings to history, and the Device console page: pick a device of your
// customer, send it MSG, READ or WRITE, see its answers live.
import { FlowNode, Tab, uiGroup, uiPage } from './kit';
import { eotServer, history, registry, uiBase, uiTheme } from './shared';

function server(): Tab {
  const t = new Tab(
    'sf-tab-devices',
    'Devices (EOT)',
    "The EOT device server (eot-protocol.md) on `${SENSFLOW_EOT_PORT}` (4004 by default). Devices registered with `sensflow devices add` log in with AUTH2 or the seed's AUTH; the server routes their frames to devices of the same customer, stores EVENT and ALARM frames and re-sends alarms to subscribed devices. Frames they send come out of the eot-in nodes; eot-out sends frames to them.\n\nTry it with `sensflow simulate eot --devices 10 --rate 1`.",
  );
  t.comment(
    'sf-eot-comment',
    [1, 0],
    'EOT devices: events and alarms they report (stored in the store, alarms re-sent to subscribed devices)',
  );
  t.add(
    'eot-in',
    'sf-eot-reports',
    [0, 1],
    { name: 'events and alarms', server: 'sf-eot-server', types: 'EVENT,ALARM', device: '' },
    [['sf-eot-debug']],
  );
  t.add(
    'debug',
    'sf-eot-debug',
    [1, 1],
    {
      name: 'device reports',
      active: true,
      tosidebar: true,
      console: false,
      tostatus: true,
      complete: 'payload',
      targetType: 'msg',
      statusVal: 'topic',
      statusType: 'msg',
    },
    [],
  );

  // Readings to history, tagged like MQTT ones (location, customer).
  t.add(
    'eot-in',
    'sf-eot-readings',
    [0, 2],
    { name: 'readings', server: 'sf-eot-server', types: 'READING', device: '' },
    [['sf-eot-reading']],
  );
  t.fn(
    'sf-eot-reading',
    [1, 2],
    'to the server?',
    `
// READING|sensor|value|unit|ts sent to SERVER (readings for a device are its own).
const f = msg.payload;
if (f.destination !== 'SERVER' || !/^[A-Za-z0-9_]{1,32}$/.test(f.fields[0] || '')) return null;
if (!Number.isFinite(Number(f.fields[1]))) return null;
msg.deviceId = f.origin;
return msg;`,
    [['sf-eot-lookup']],
  );
  t.add('device-lookup', 'sf-eot-lookup', [2, 2], { name: 'device', registry: 'sf-registry' }, [
    ['sf-eot-point'],
  ]);
  t.fn(
    'sf-eot-point',
    [3, 2],
    'point',
    `
const d = msg.device;
if (!d) return null;
const f = msg.payload;
const ts = f.fields[3];
msg.measurement = f.fields[0];
msg.tags = { customer: d.customerId, location: d.location, unit: f.fields[2] || '' };
msg.payload = { value: Number(f.fields[1]) };
if (ts) msg.timestamp = /^\\d+$/.test(ts) ? Number(ts) : ts;
return msg;`,
    [['sf-eot-history']],
  );
  t.add(
    'history-out',
    'sf-eot-history',
    [4, 2],
    {
      name: 'EOT reading history',
      store: 'sf-history',
      measurement: '',
      tags: '',
      fieldTypes: '',
      maxFuture: '',
    },
    [],
  );

  // The Device console page.
  t.template('sf-console-view', [4, 4], 'console', 'sf-group-console', 'console', 1, [
    ['sf-k-ask'],
  ]);
  t.byTopic('sf-k-ask', [0, 5], 'asks', ['refresh', 'send'], [['sf-k-view'], ['sf-k-frame']]);
  t.add(
    'dashboard-access',
    'sf-k-view',
    [1, 5],
    { name: 'user', registry: 'sf-registry', require: 'view' },
    [['sf-k-list'], []],
  );
  t.add(
    'device-list',
    'sf-k-list',
    [2, 5],
    { name: "the user's devices", registry: 'sf-registry', fields: '', limit: '' },
    [['sf-k-devices']],
  );
  t.fn(
    'sf-k-devices',
    [3, 5],
    'devices',
    `
// The EOT devices first: the console speaks EOT.
const rank = (d) => (d.transport === 'eot' ? 0 : 1);
const devices = msg.payload
  .filter((d) => d.enabled)
  .sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : 1))
  .map((d) => ({ id: d.id, type: d.type, state: d.state, transport: d.transport }));
return { _client: msg._client, topic: 'devices', payload: devices };`,
    [['sf-console-view']],
  );
  t.fn(
    'sf-k-frame',
    [1, 6],
    'frame',
    `
const p = msg.payload || {};
const type = String(p.type);
if (!['MSG', 'READ', 'WRITE'].includes(type) || typeof p.destination !== 'string') return null;
const fields = Array.isArray(p.fields) ? p.fields.map(String) : [];
msg.payload = { destination: p.destination, type, fields };
return msg;`,
    [['sf-k-operate']],
  );
  t.add(
    'dashboard-access',
    'sf-k-operate',
    [2, 6],
    { name: 'operator of that customer?', registry: 'sf-registry', require: 'operate' },
    [['sf-k-out'], ['sf-k-refused']],
  );
  t.add('eot-out', 'sf-k-out', [3, 6], { name: 'to the device', server: 'sf-eot-server' }, []);
  t.fn(
    'sf-k-refused',
    [3, 7],
    'refused',
    `
return [
  { _client: msg._client, topic: 'error', payload: { destination: msg.payload.destination, text: 'refused: ' + msg.refused } },
  { _client: msg._client, payload: 'Refused: ' + msg.refused },
];`,
    [['sf-console-view'], ['sf-k-notify']],
  );
  t.catchAll('sf-k-catch', [2, 8], 'not sent', ['sf-k-out'], [['sf-k-failed']]);
  t.fn(
    'sf-k-failed',
    [3, 8],
    'not sent',
    `return { _client: msg._client, topic: 'error', payload: { destination: msg.payload.destination, text: msg.error.message } };`,
    [['sf-console-view']],
  );
  t.notification('sf-k-notify', [4, 7], 'console notices');
  t.add(
    'eot-in',
    'sf-k-frames',
    [0, 9],
    {
      name: 'frames for the console',
      server: 'sf-eot-server',
      types: 'READING,ACK,MSG,EVENT,ALARM,ERROR',
      device: '',
    },
    [['sf-k-frame-out']],
  );
  t.fn(
    'sf-k-frame-out',
    [2, 9],
    'for its customer',
    `
// A console is for people: beyond 50 frames in a second, the rest of that
// second is dropped (bursts of a few pass, a flood does not reach browsers).
const now = Date.now();
const w = context.get('window') || { start: 0, n: 0 };
if (now - w.start >= 1000) {
  w.start = now;
  w.n = 0;
}
w.n++;
context.set('window', w);
if (w.n > 50) return null;
const f = msg.payload;
return { topic: 'frame', _customer: f.customer, payload: { origin: f.origin, destination: f.destination, type: f.type, fields: f.fields } };`,
    [['sf-console-view']],
  );
  return t;
}

const pages: FlowNode[] = [
  uiPage('sf-page-console', 'Device console', '/console', 'console', 6),
  uiGroup('sf-group-console', 'Send a frame to one of your devices', 'sf-page-console', 12, 1),
];

export function eotServerFlow(): FlowNode[] {
  return [...server().nodes, ...pages, uiBase, uiTheme, registry, history, eotServer];
}

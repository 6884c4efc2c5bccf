// The Alarms page: open alarms by severity with their actions, the closed
// ones, and every alarm change of the store as it happens.
import { Tab } from '../kit';
import { refused } from './common';

export function alarmsTab(): Tab {
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
  t.operatorCheck('sf-a-operate', [2, 3], [['sf-a-control'], ['sf-a-refused']]);
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

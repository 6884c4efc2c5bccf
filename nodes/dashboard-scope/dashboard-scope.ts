// A Dashboard 2.0 plugin: per-customer dashboards. Every message a browser
// sends carries its user in `msg._client.user` ({username, customerId, role},
// from the login checked when its connection opened), and a message marked
// `msg._customer` reaches only the browsers of that customer's users (and of
// users of every customer), also when a page reloads what a widget last had.
// The dashboard's ui-base must list the widget types concerned under
// "accept client constraints" (acceptsClientConfig).
import type { NodeAPI } from 'node-red';
import { canSee, dashboardSessions } from '../../lib/dashboard/sessions';

interface Connection {
  id: string;
}
type Message = Record<string, unknown> & { _client?: Record<string, unknown>; _customer?: unknown };

function visible(conn: Connection, msg: unknown): boolean {
  if (msg === null || typeof msg !== 'object') return true;
  return canSee(dashboardSessions.userOf(conn.id), (msg as Message)._customer);
}

export const hooks = {
  onAddConnectionCredentials(conn: Connection, msg: Message): Message {
    // Only a server that binds connections knows users; a stock Node-RED's
    // own `_client.user` (another plugin's) is left alone.
    if (!dashboardSessions.enforcing) return msg;
    const user = dashboardSessions.userOf(conn.id);
    msg._client = { ...(msg._client ?? {}) };
    if (user) msg._client.user = { ...user };
    else delete msg._client.user;
    return msg;
  },
  onIsValidConnection(conn: Connection, msg: Message): boolean {
    return visible(conn, msg);
  },
  /** What a widget last received, replayed when a page loads. */
  onLoad(conn: Connection, _id: string, msg: unknown): unknown {
    if (Array.isArray(msg)) return msg.filter((m) => visible(conn, m));
    return visible(conn, msg) ? msg : undefined;
  },
};

export default function register(RED: NodeAPI): void {
  const plugins = (
    RED as unknown as { plugins: { registerPlugin(id: string, def: unknown): void } }
  ).plugins;
  plugins.registerPlugin('sensflow-dashboard-scope', { type: 'node-red-dashboard-2', hooks });
}

// Who is behind each dashboard connection. When a browser opens its socket.io
// connection, the launcher checks the dashboard login and binds the socket to
// the user it found (or to the open dashboard when no login is asked); the
// Dashboard 2.0 plugin and the dashboard-access node then ask here, by socket
// id, which customer a connection may see and act on. One map per process,
// like the shared store, so the launcher, the plugin and the nodes agree.

export type Role = 'viewer' | 'operator';

export interface DashboardIdentity {
  username: string;
  /** Null: every customer. */
  customerId: string | null;
  role: Role;
}

/** Whoever opens the dashboard when it asks for no login: every customer,
 *  every action, as in a stock Node-RED. */
export const OPEN_DASHBOARD: Readonly<DashboardIdentity> = Object.freeze({
  username: 'dashboard',
  customerId: null,
  role: 'operator',
});

export type Resolved = { identity: DashboardIdentity } | { refused: string };

export class DashboardSessions {
  private readonly bySocket = new Map<string, DashboardIdentity>();
  private enforced = false;

  /** Called by a server that binds every connection (Sensflow's launcher):
   *  from then on a connection it did not bind is nobody. Without it (a stock
   *  Node-RED with the Sensflow nodes) every connection is the open dashboard. */
  enforce(on = true): void {
    this.enforced = on;
  }

  get enforcing(): boolean {
    return this.enforced;
  }

  bind(socketId: string, identity: DashboardIdentity): void {
    this.bySocket.set(socketId, { ...identity });
  }

  release(socketId: string): void {
    this.bySocket.delete(socketId);
  }

  /** The user of a connection; undefined for one nobody bound while enforcing. */
  userOf(socketId: string | undefined): DashboardIdentity | undefined {
    if (!this.enforced) return OPEN_DASHBOARD;
    return socketId === undefined ? undefined : this.bySocket.get(socketId);
  }

  /** The user a message from a dashboard acts for, from the socket id that
   *  Dashboard 2.0 puts in `msg._client` (never from what the browser says). */
  resolve(client: unknown): Resolved {
    if (!this.enforced) return { identity: OPEN_DASHBOARD };
    const socketId =
      client !== null && typeof client === 'object'
        ? (client as { socketId?: unknown }).socketId
        : undefined;
    if (typeof socketId !== 'string' || socketId === '')
      return { refused: 'not sent from a dashboard connection' };
    const identity = this.bySocket.get(socketId);
    return identity ? { identity } : { refused: 'unknown dashboard connection' };
  }

  /** Connections bound now (for tests and diagnostics). */
  get size(): number {
    return this.bySocket.size;
  }
}

export const dashboardSessions = new DashboardSessions();

/**
 * Whether a user may see something of `customer`. A message marked with
 * `_customer` reaches only the users of that customer and the users of every
 * customer; an unmarked one reaches everyone; nobody sees marked ones.
 */
export function canSee(identity: DashboardIdentity | undefined, customer: unknown): boolean {
  if (customer === undefined || customer === null || customer === '') return true;
  if (!identity) return false;
  return identity.customerId === null || identity.customerId === customer;
}

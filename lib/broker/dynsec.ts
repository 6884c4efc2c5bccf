// Keeps a real Mosquitto's dynamic-security plugin in step with the device
// registry, over its `$CONTROL/dynamic-security/v1` API: each device has a
// role with its ACLs (device-acl.ts) and, once its password was handed out,
// a client. Disabled devices are disabled clients, reset ones have none, and
// Mosquitto cuts off a client it deletes or disables, so changes apply at
// once without a restart. Only clients marked as Sensflow's are touched.
// Several instances share the response topic: each names its requests with a
// prefix of its own, and only the leading one follows the registry's changes.
import { randomBytes } from 'node:crypto';
import mqtt, { MqttClient } from 'mqtt';
import { redactUrl } from '../config/parse';
import type { DeviceRecord, Registry } from '../registry/registry';
import { errorMessage, Logger } from '../util/log';
import { deviceAcl } from './device-acl';

const CONTROL = '$CONTROL/dynamic-security/v1';
const RESPONSE = `${CONTROL}/response`;
/** The textname that marks the clients and roles Sensflow manages. */
export const MANAGED = 'sensflow device';

export interface DynsecOptions {
  /** The broker URL (its login, if any, is replaced by the admin's). */
  url: URL;
  admin: { user: string; password: string };
  registry: Registry;
  logger: Logger;
  /** Logins never touched (the admin's, the service's). */
  reserved?: string[];
  timeoutMs?: number;
  /** With several instances: whether this one keeps Mosquitto in step now
   *  (the others only hand out passwords they issue themselves). */
  leads?: () => boolean;
}

interface Response {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
  correlationData?: string;
}

interface DynsecClient {
  username: string;
  textname?: string;
  disabled?: boolean;
  roles?: Array<{ rolename: string }>;
}

export const roleName = (deviceId: string) => `sensflow-device-${deviceId}`;

export class DynsecSync {
  private readonly client: MqttClient;
  private readonly waiting = new Map<string, (r: Response) => void>();
  private next = 0;
  /** Every instance sees every response: ours carry this prefix. */
  private readonly prefix = `sf-${randomBytes(4).toString('hex')}-`;
  /** Work runs one item at a time, in order. */
  private queue: Promise<void> = Promise.resolve();
  private unwatch?: () => void;
  private readonly reserved: Set<string>;

  constructor(private readonly options: DynsecOptions) {
    this.reserved = new Set([options.admin.user, ...(options.reserved ?? [])]);
    const url = new URL(options.url.toString());
    url.username = '';
    url.password = '';
    this.client = mqtt.connect(url.toString(), {
      username: options.admin.user,
      password: options.admin.password,
      clientId: `sensflow-dynsec-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: 2000,
      connectTimeout: 5000,
    });
    this.client.on('message', (topic, payload) => this.onResponse(topic, payload));
    this.client.on('connect', () => {
      this.client.subscribe(RESPONSE, (err) => {
        if (err) return options.logger.warn(`dynsec: cannot subscribe: ${errorMessage(err)}`);
        // After every (re)connection, catch up with what changed meanwhile.
        this.reconcile();
      });
    });
    this.client.on('error', (err) =>
      options.logger.warn(`dynsec ${redactUrl(url)}: ${errorMessage(err)}`),
    );
    this.unwatch = options.registry.watch((change) => {
      if (this.leading) this.enqueue(() => this.syncDevice(change.deviceId));
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  private get leading(): boolean {
    return this.options.leads?.() ?? true;
  }

  /** Brings Mosquitto in step with the whole registry (when leading). */
  reconcile(): void {
    if (this.leading && this.client.connected) this.enqueue(() => this.reconcileAll());
  }

  /** Resolves once the first full reconciliation is done (tests, start-up). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.client.connected) {
      if (Date.now() > deadline) throw new Error('dynsec: broker not reachable');
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.idle();
  }

  /** Resolves when the work queued so far is done. */
  async idle(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.queue;
      await last;
    } while (last !== this.queue);
  }

  /** A password was just handed out: give Mosquitto the client. Throws when
   *  Mosquitto did not take it (the caller withdraws the password). */
  async passwordIssued(device: DeviceRecord, login: string, password: string): Promise<void> {
    if (!this.client.connected) throw new Error('Mosquitto is not reachable');
    if (this.reserved.has(login)) throw new Error(`login ${login} is reserved on Mosquitto`);
    await this.run(async () => {
      await this.ensureRole(device);
      const existing = await this.getClient(login);
      if (existing && existing.textname !== MANAGED)
        throw new Error(`Mosquitto already has a client ${login} not managed by Sensflow`);
      if (existing) {
        await this.command({ command: 'setClientPassword', username: login, password });
        await this.ensureClientRole(existing, device);
        await this.command({ command: 'enableClient', username: login });
      } else {
        await this.command({
          command: 'createClient',
          username: login,
          password,
          textname: MANAGED,
          roles: [{ rolename: roleName(device.id) }],
        });
      }
    });
  }

  async close(): Promise<void> {
    this.unwatch?.();
    await this.idle().catch(() => undefined);
    await this.client.endAsync(true);
  }

  // ---------------------------------------------------------------- sync

  private async reconcileAll(): Promise<void> {
    const known = new Set<string>();
    for (let offset = 0; ; offset += 1000) {
      const page = await this.options.registry.listDevices({ limit: 1000, offset });
      for (const device of page.items) {
        known.add(device.mqttLogin);
        await this.apply(device.id, device, true);
      }
      if (offset + page.items.length >= page.total || page.items.length === 0) break;
    }
    const listed = await this.command({ command: 'listClients', verbose: true });
    for (const client of (listed.data?.clients ?? []) as DynsecClient[]) {
      if (client.textname === MANAGED && !known.has(client.username)) {
        await this.command({ command: 'deleteClient', username: client.username });
        const role = client.roles?.find((r) => r.rolename.startsWith('sensflow-device-'));
        if (role) await this.command({ command: 'deleteRole', rolename: role.rolename }, true);
      }
    }
  }

  private async syncDevice(deviceId: string): Promise<void> {
    await this.apply(deviceId, await this.options.registry.getDevice(deviceId));
  }

  private async apply(
    deviceId: string,
    device: DeviceRecord | null,
    catchingUp = false,
  ): Promise<void> {
    const login = device?.mqttLogin ?? deviceId;
    if (this.reserved.has(login)) {
      this.options.logger.warn(`dynsec: device ${deviceId} has a reserved login, not synced`);
      return;
    }
    const existing = await this.getClient(login);
    if (existing && existing.textname !== MANAGED) {
      this.options.logger.warn(`dynsec: client ${login} is not managed by Sensflow, left alone`);
      return;
    }
    if (!device) {
      if (existing) await this.command({ command: 'deleteClient', username: login });
      await this.command({ command: 'deleteRole', rolename: roleName(deviceId) }, true);
      return;
    }
    await this.ensureRole(device);
    if (!device.credentialsDelivered) {
      // Reset (or never handed out): no password may work.
      if (existing) await this.command({ command: 'deleteClient', username: login });
      return;
    }
    if (!existing) {
      // A password handed out just now is given to Mosquitto by passwordIssued().
      if (!catchingUp) return;
      this.options.logger.warn(
        `dynsec: Mosquitto has no client for device ${deviceId}; reset its credentials so it gets a new password`,
      );
      return;
    }
    await this.ensureClientRole(existing, device);
    if (device.enabled && existing.disabled)
      await this.command({ command: 'enableClient', username: login });
    if (!device.enabled && !existing.disabled)
      await this.command({ command: 'disableClient', username: login });
  }

  private async ensureRole(device: DeviceRecord): Promise<void> {
    const rolename = roleName(device.id);
    const acl = deviceAcl(device.location);
    const wanted = [
      { acltype: 'publishClientSend', topic: acl.publish, allow: true },
      { acltype: 'subscribePattern', topic: acl.subscribe, allow: true },
    ];
    const got = await this.command({ command: 'getRole', rolename }, true);
    if (got.error) {
      await this.command({ command: 'createRole', rolename, textname: MANAGED, acls: wanted });
      return;
    }
    const have = ((got.data?.role as { acls?: typeof wanted })?.acls ?? []).map(
      (a) => `${a.acltype} ${a.topic} ${a.allow}`,
    );
    const want = wanted.map((a) => `${a.acltype} ${a.topic} ${a.allow}`);
    for (const [i, a] of ((got.data?.role as { acls?: typeof wanted })?.acls ?? []).entries()) {
      if (!want.includes(have[i]))
        await this.command({
          command: 'removeRoleACL',
          rolename,
          acltype: a.acltype,
          topic: a.topic,
        });
    }
    for (const [i, a] of wanted.entries()) {
      if (!have.includes(want[i])) await this.command({ command: 'addRoleACL', rolename, ...a });
    }
  }

  private async ensureClientRole(client: DynsecClient, device: DeviceRecord): Promise<void> {
    const rolename = roleName(device.id);
    if (!(client.roles ?? []).some((r) => r.rolename === rolename))
      await this.command({ command: 'addClientRole', username: client.username, rolename });
  }

  private async getClient(username: string): Promise<DynsecClient | null> {
    const got = await this.command({ command: 'getClient', username }, true);
    return got.error ? null : ((got.data?.client as DynsecClient) ?? null);
  }

  // ---------------------------------------------------------------- transport

  private enqueue(work: () => Promise<void>): void {
    this.run(work).catch((err: unknown) =>
      this.options.logger.warn(`dynsec: ${errorMessage(err)} (retried at the next reconnection)`),
    );
  }

  private run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Sends one command and waits for its answer; an error answer throws
   *  unless `tolerate` (e.g. "not found" when probing). */
  private command(body: Record<string, unknown>, tolerate = false): Promise<Response> {
    const correlationData = `${this.prefix}${++this.next}`;
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlationData);
        reject(new Error(`${String(body.command)}: no answer from Mosquitto`));
      }, this.options.timeoutMs ?? 5000);
      this.waiting.set(correlationData, (response) => {
        clearTimeout(timer);
        if (response.error && !tolerate)
          reject(new Error(`${String(body.command)}: ${response.error}`));
        else resolve(response);
      });
      this.client.publish(
        CONTROL,
        JSON.stringify({ commands: [{ ...body, correlationData }] }),
        { qos: 1 },
        (err) => {
          if (!err) return;
          clearTimeout(timer);
          this.waiting.delete(correlationData);
          reject(err);
        },
      );
    });
  }

  private onResponse(topic: string, payload: Buffer): void {
    if (topic !== RESPONSE) return;
    let parsed: { responses?: Response[] };
    try {
      parsed = JSON.parse(payload.toString('utf8')) as { responses?: Response[] };
    } catch {
      return;
    }
    for (const response of parsed.responses ?? []) {
      const id = response.correlationData;
      const waiter = id ? this.waiting.get(id) : undefined;
      if (waiter && id) {
        this.waiting.delete(id);
        waiter(response);
      }
    }
  }
}

// A minimal socket.io client (Engine.IO 4 long-polling) for Dashboard 2.0,
// so tests can act as a browser would, with a Basic login, and also send what
// a tampered browser would: widget actions naming another customer's device.
import { delay } from './net';

type Event = [string, ...unknown[]];

export class DashboardSocket {
  readonly events: Event[] = [];
  private closed = false;
  private polling?: Promise<void>;
  private error?: string;

  private constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  /** Connects to the dashboard at `base` (e.g. http://127.0.0.1:1880/). */
  static async connect(
    base: string,
    login?: { user: string; password: string },
  ): Promise<DashboardSocket> {
    const headers: Record<string, string> = {};
    if (login)
      headers.authorization = `Basic ${Buffer.from(`${login.user}:${login.password}`).toString('base64')}`;
    const url = new URL('dashboard/socket.io/?EIO=4&transport=polling', base).toString();
    const res = await fetch(url, { headers });
    if (res.status !== 200) throw new Error(`socket.io handshake answered ${res.status}`);
    const open = (await res.text()).split('\x1e')[0];
    const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
    const socket = new DashboardSocket(`${url}&sid=${sid}`, headers);
    await socket.post('40');
    socket.polling = socket.poll();
    await socket.waitFor((e) => e[0] === '$connect' || e[0] === '$connect_error', 10_000);
    if (socket.error) throw new Error(`socket.io refused the connection: ${socket.error}`);
    return socket;
  }

  emit(event: string, ...args: unknown[]): Promise<void> {
    return this.post(`42${JSON.stringify([event, ...args])}`);
  }

  /** Sends a message from a ui-template, as its `send()` does (`widget-send`). */
  send(widgetId: string, msg: Record<string, unknown>): Promise<void> {
    return this.emit('widget-send', widgetId, msg);
  }

  /** The first event that `match` accepts, from the start or from event number `from`. */
  async waitFor(match: (e: Event) => boolean, timeoutMs = 10_000, from = 0): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('timed out waiting for a dashboard event');
      await delay(50);
    }
  }

  /** Messages a widget received, in order. */
  messagesFor(widgetId: string): Array<Record<string, unknown>> {
    return this.events
      .filter((e) => e[0] === `msg-input:${widgetId}`)
      .map((e) => e[1] as Record<string, unknown>);
  }

  /** The first message a widget received that `match` accepts. */
  async messageFor(
    widgetId: string,
    match: (msg: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<Record<string, unknown>> {
    const event = await this.waitFor(
      (e) => e[0] === `msg-input:${widgetId}` && match(e[1] as Record<string, unknown>),
      timeoutMs,
      from,
    );
    return event[1] as Record<string, unknown>;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.post('1').catch(() => undefined);
    await this.polling;
  }

  private async post(body: string): Promise<void> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'text/plain;charset=UTF-8' },
      body,
    });
    if (res.status !== 200) throw new Error(`socket.io POST answered ${res.status}`);
    await res.text();
  }

  private async poll(): Promise<void> {
    while (!this.closed) {
      let text: string;
      try {
        const res = await fetch(this.url, { headers: this.headers });
        if (res.status !== 200) break;
        text = await res.text();
      } catch {
        break;
      }
      for (const packet of text.split('\x1e')) this.take(packet);
    }
    this.closed = true;
  }

  private take(packet: string): void {
    const type = packet[0];
    if (type === '2') {
      this.post('3').catch(() => undefined);
    } else if (type === '1') {
      this.closed = true;
    } else if (type === '4') {
      const kind = packet[1];
      const body = packet.slice(2);
      if (kind === '0') this.events.push(['$connect']);
      else if (kind === '4') {
        this.error = body;
        this.events.push(['$connect_error', body]);
      } else if (kind === '2') this.events.push(JSON.parse(body) as Event);
    }
  }
}

// A minimal MQTT 3.1.1 client for the benchmarks' load generators (CONNECT
// with or without a login, SUBSCRIBE, PUBLISH at QoS 0 or 1 with PUBACKs
// counted): as lean as the raw EOT client beside it, so the load generator
// spends the same on both protocols and little beside the server it drives.
import net from 'node:net';

function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);
}

const string = (s: string) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

export interface Login {
  username: string;
  password: string;
}

export class MqttLite {
  private pending: Buffer = Buffer.alloc(0);
  private waiting?: { type: number; resolve: () => void; reject: (err: Error) => void };
  private nextId = 0;
  /** QoS 1 publishes not yet acknowledged. */
  unacked = 0;
  onPublish: (topic: string, payload: Buffer) => void = () => undefined;
  /** Called for each PUBACK of a QoS 1 publish. */
  onAck: () => void = () => undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => undefined);
  }

  /** Connects and waits for CONNACK; a refused login (CONNACK code ≠ 0) rejects. */
  static async connect(
    port: number,
    clientId: string,
    localAddress?: string,
    login?: Login,
  ): Promise<MqttLite> {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new MqttLite(socket);
    // Clean session; keepalive 0 (the benchmark's connections never idle long).
    const flags = 0x02 | (login ? 0xc0 : 0);
    const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, 0, 0]);
    const fields = [variable, string(clientId)];
    if (login) fields.push(string(login.username), string(login.password));
    await client.request(packet(0x10, Buffer.concat(fields)), 2);
    return client;
  }

  subscribe(topic: string, qos: 0 | 1 = 0): Promise<void> {
    return this.request(
      packet(0x82, Buffer.concat([Buffer.from([0, 1]), string(topic), Buffer.from([qos])])),
      9,
    );
  }

  publish(topic: string, payload: Buffer, qos: 0 | 1 = 0): void {
    if (qos === 0) {
      this.socket.write(packet(0x30, Buffer.concat([string(topic), payload])));
      return;
    }
    this.nextId = (this.nextId % 0xffff) + 1;
    this.unacked++;
    const id = Buffer.from([this.nextId >> 8, this.nextId & 0xff]);
    this.socket.write(packet(0x32, Buffer.concat([string(topic), id, payload])));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private request(bytes: Buffer, answerType: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting = { type: answerType, resolve, reject };
      this.socket.once('close', () => reject(new Error('connection closed')));
      this.socket.write(bytes);
    });
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      const p = this.pending;
      if (p.length < 2) return;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      for (; i < p.length; i++) {
        length += (p[i] & 0x7f) * multiplier;
        multiplier *= 128;
        if ((p[i] & 0x80) === 0) break;
      }
      if (i >= p.length || p.length < i + 1 + length) return;
      const body = p.subarray(i + 1, i + 1 + length);
      const type = p[0] >> 4;
      this.pending = p.subarray(i + 1 + length);
      if (type === 3) {
        const topicLength = (body[0] << 8) | body[1];
        // A QoS 1 delivery carries a packet id after the topic, and is acknowledged.
        const qos = (p[0] >> 1) & 3;
        const start = 2 + topicLength + (qos > 0 ? 2 : 0);
        if (qos > 0) this.socket.write(Buffer.from([0x40, 2, body[start - 2], body[start - 1]]));
        this.onPublish(body.toString('utf8', 2, 2 + topicLength), body.subarray(start));
      } else if (type === 4) {
        this.unacked--;
        this.onAck();
      } else if (this.waiting && this.waiting.type === type) {
        const { resolve, reject } = this.waiting;
        this.waiting = undefined;
        // CONNACK's return code: anything but 0 is a refusal.
        if (type === 2 && body[1] !== 0) reject(new Error(`CONNACK ${body[1]}`));
        else resolve();
      }
    }
  }
}

// A minimal MQTT 3.1.1 client for the benchmark's load generator (CONNECT,
// SUBSCRIBE, PUBLISH at QoS 0): as lean as the raw EOT client beside it, so
// the load generator spends the same on both protocols.
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

export class MqttLite {
  private pending: Buffer = Buffer.alloc(0);
  private waiting?: { type: number; resolve: () => void };
  onPublish: (topic: string, payload: Buffer) => void = () => undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => undefined);
  }

  static async connect(port: number, clientId: string, localAddress?: string): Promise<MqttLite> {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new MqttLite(socket);
    const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0]);
    await client.request(packet(0x10, Buffer.concat([variable, string(clientId)])), 2);
    return client;
  }

  subscribe(topic: string): Promise<void> {
    return this.request(
      packet(0x82, Buffer.concat([Buffer.from([0, 1]), string(topic), Buffer.from([0])])),
      9,
    );
  }

  publish(topic: string, payload: Buffer): void {
    this.socket.write(packet(0x30, Buffer.concat([string(topic), payload])));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private request(bytes: Buffer, answerType: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = { type: answerType, resolve };
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
        this.onPublish(body.toString('utf8', 2, 2 + topicLength), body.subarray(2 + topicLength));
      } else if (this.waiting && this.waiting.type === type) {
        const { resolve } = this.waiting;
        this.waiting = undefined;
        resolve();
      }
    }
  }
}

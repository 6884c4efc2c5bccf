// The device side of the protocol: connects (TCP or TLS), reads HELLO, logs
// in with AUTH2 or the seed's AUTH, then sends and receives frames. The
// simulator, the benchmark and the tests use it; a real device does the same.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { auth2Mac, authDigest, LoginMode } from './auth';
import { CodecOptions, decode, encode, Frame } from './codec';
import { SERVER } from './constants';
import { Framer } from './framer';

export interface ClientOptions extends CodecOptions {
  host?: string;
  port: number;
  /** Connect with TLS (options passed to tls.connect). */
  tls?: tls.ConnectionOptions;
  /** Source address (e.g. another loopback address in tests). */
  localAddress?: string;
  /** Time to wait for HELLO. Default 10 s. */
  timeoutMs?: number;
}

export interface DeviceCredentials {
  id: string;
  type: string;
  serial: string;
  mode?: LoginMode;
}

export class EotClient extends EventEmitter<{ frame: [Frame]; close: [] }> {
  /** The nonce of this connection's HELLO. */
  nonce = '';
  id?: string;
  closed = false;
  private readonly framer: Framer;
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  /** Frames nobody waited or listened for, oldest first (at most 10,000). */
  private backlog: Frame[] = [];

  private constructor(
    readonly socket: net.Socket,
    private readonly codec: CodecOptions,
  ) {
    super();
    this.framer = new Framer(codec.maxFrameBytes);
    socket.on('data', this.onData);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    this.framer.push(chunk, (raw) => {
      let frame: Frame;
      try {
        frame = decode(raw, this.codec);
      } catch {
        return;
      }
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(frame);
      else if (this.listenerCount('frame') > 0) this.emit('frame', frame);
      else if (this.backlog.length < 10_000) this.backlog.push(frame);
    });
  };

  /** Stops reading frames: the caller reads the logged-in socket itself (benchmarks). */
  detach(): net.Socket {
    this.socket.off('data', this.onData);
    return this.socket;
  }

  /** Connects and resolves once the server's HELLO arrived. */
  static connect(options: ClientOptions): Promise<EotClient> {
    const host = options.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({ host, port: options.port, ...options.tls })
        : net.connect({ host, port: options.port, localAddress: options.localAddress });
      socket.setNoDelay(true);
      const client = new EotClient(socket, options);
      const fail = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      client
        .next((f) => f.type === 'HELLO', options.timeoutMs ?? 10_000)
        .then((hello) => {
          socket.off('error', fail);
          client.nonce = hello.fields[1];
          resolve(client);
        }, fail);
    });
  }

  /** Logs in; true on AUTHOK, false on AUTHFAIL or close. */
  async login(device: DeviceCredentials, random?: string): Promise<boolean> {
    const mode = device.mode ?? 'AUTH2';
    const fields =
      mode === 'AUTH2'
        ? [device.type, this.nonce, auth2Mac(device.serial, this.nonce, device.id, device.type)]
        : [device.type, (random ??= randomDigits()), authDigest(device.serial, random)];
    this.send({ origin: device.id, destination: SERVER, type: mode, fields });
    try {
      const answer = await this.next((f) => f.type === 'AUTHOK' || f.type === 'AUTHFAIL');
      if (answer.type !== 'AUTHOK') return false;
      this.id = device.id;
      return true;
    } catch {
      return false;
    }
  }

  send(frame: Frame): void {
    this.sendRaw(encode(frame, this.codec));
  }

  sendRaw(bytes: Buffer | string): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** Frames received that nobody waited or listened for; clears them. */
  takeReceived(): Frame[] {
    return this.backlog.splice(0);
  }

  /** Sends PING and waits for PONG: everything the server sent before is then received. */
  async sync(timeoutMs = 5000): Promise<void> {
    this.send({ origin: this.id!, destination: SERVER, type: 'PING', fields: [] });
    await this.next((f) => f.type === 'PONG', timeoutMs);
  }

  /** The next frame that matches, received already or to come (frames nobody
   *  waits for go to 'frame' listeners, or are kept for later). */
  next(match: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const kept = this.backlog.findIndex(match);
    if (kept >= 0) return Promise.resolve(this.backlog.splice(kept, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          this.off('close', onClose);
          resolve(f);
        },
      };
      const onClose = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error('connection closed'));
      };
      const timer = setTimeout(() => {
        this.off('close', onClose);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms`));
      }, timeoutMs);
      if (this.closed) return onClose();
      this.once('close', onClose);
      this.waiters.push(waiter);
    });
  }

  /** Resolves when the server closed the connection. */
  whenClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('still open')), timeoutMs);
      this.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** 5 random digits, as a seed device makes them. */
export function randomDigits(): string {
  return String(Math.floor(Math.random() * 100_000)).padStart(5, '0');
}

// One device's socket: bytes in through the framer, frames handed to the host
// one at a time and in order (a frame whose handling waits on the store holds
// the next ones back, and a long backlog pauses reading), bytes out with a
// bound on what may wait for a device that does not read.
import type net from 'node:net';
import type { Clock, TimerHandle } from '../util/clock';
import { Framer } from './framer';
import { bytesIn, bytesOut, countDropped, countFrameOut } from './metrics';

export type ConnectionState = 'handshake' | 'authenticating' | 'online' | 'closed';

export interface ConnectionHost {
  /** Handles one complete frame (EOT included); a promise holds the next frames back. */
  onFrame(conn: Connection, raw: Buffer): void | Promise<void>;
  /** A frame went over the maximum size. */
  onOversize(conn: Connection): void;
  /** The connection is closing or closed (called once). */
  onClose(conn: Connection, reason: string): void;
}

/** Frames waiting behind a slow one before reading pauses. */
const MAX_INBOX = 64;
/** How long a closing connection may take to read its last frame. */
const LINGER_MS = 2000;

export class Connection {
  state: ConnectionState = 'handshake';
  /** Set once logged in. */
  id?: string;
  customerId?: string;
  deviceType?: string;
  /** Random per login: with several instances, a takeover or a close names the session it means. */
  session?: string;
  readonly connectedAt: number;
  lastActivity: number;
  /** Last time the registry was told this device is alive. */
  seenAt = 0;
  /** While the offline queue is delivered, live frames wait in `held`. */
  draining = false;
  drainRunning = false;
  drainAgain = false;
  held?: Array<{ raw: Buffer; type: string }>;
  heldBytes = 0;
  /** Counted among its address's connections still logging in. */
  countedHandshake = true;
  /** Frames for this device written while a chunk was being handled: they leave together. */
  private outbox?: Buffer[];
  private outboxBytes = 0;
  private readonly framer: Framer;

  get closed(): boolean {
    return this.state === 'closed';
  }

  private inbox?: Buffer[];
  private busy = false;
  private linger?: TimerHandle;

  constructor(
    readonly socket: net.Socket,
    readonly address: string,
    readonly nonce: string,
    private readonly host: ConnectionHost,
    private readonly clock: Clock,
    maxFrameBytes: number,
    private readonly maxOutboundBytes: number,
  ) {
    this.framer = new Framer(maxFrameBytes);
    this.connectedAt = this.lastActivity = clock.now();
    socket.on('data', this.onData);
    socket.on('error', noop);
    socket.on('close', this.onSocketClose);
  }

  /** Sends bytes; closes the connection instead when too much already waits. */
  write(bytes: Buffer, type: string, done?: (err?: Error | null) => void): boolean {
    if (this.state === 'closed') return false;
    bytesOut.inc(bytes.length);
    countFrameOut(type);
    if (handling && !done) {
      // Routed while a chunk is handled: sent with the others at its end, in one system call.
      if (!this.outbox) {
        this.outbox = [];
        dirty.push(this);
      }
      this.outbox.push(bytes);
      this.outboxBytes += bytes.length;
      return this.checkBacklog(this.outboxBytes);
    }
    this.flush();
    this.socket.write(bytes, done);
    return this.checkBacklog(0);
  }

  /** Sends what the outbox holds. */
  flush(): void {
    const out = this.outbox;
    if (!out) return;
    this.outbox = undefined;
    const size = this.outboxBytes;
    this.outboxBytes = 0;
    if (this.socket.destroyed) return;
    this.socket.write(out.length === 1 ? out[0] : Buffer.concat(out, size));
  }

  private checkBacklog(extra: number): boolean {
    if (this.socket.writableLength + extra > this.maxOutboundBytes) {
      countDropped('slow_consumer');
      this.close('slow_consumer');
      return false;
    }
    return true;
  }

  /** Sends and resolves true once the bytes reached the system, false if the connection closed first. */
  writeAndWait(bytes: Buffer, type: string): Promise<boolean> {
    return new Promise((resolve) => {
      if (!this.write(bytes, type, (err) => resolve(!err && this.state !== 'closed')))
        resolve(false);
    });
  }

  /** Resolves true once the device has read enough that more may be sent, false if it closes first. */
  whenWritable(): Promise<boolean> {
    const socket = this.socket;
    if (this.closed) return Promise.resolve(false);
    if (socket.writableLength < this.maxOutboundBytes / 2) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        resolve(ok && !this.closed);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }

  /** Keeps a live frame until the offline queue is delivered. */
  hold(raw: Buffer, type: string): void {
    (this.held ??= []).push({ raw, type });
    this.heldBytes += raw.length;
    if (this.heldBytes + this.socket.writableLength > this.maxOutboundBytes) {
      countDropped('slow_consumer');
      this.close('slow_consumer');
    }
  }

  /** Sends what was held, in order, and ends the draining. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    this.draining = false;
    for (const { raw, type } of held) if (!this.write(raw, type)) break;
  }

  /**
   * Closes the connection. With a last frame, it is sent and the peer gets a
   * moment to read it (input is discarded meanwhile); without, the socket is
   * destroyed now.
   */
  close(reason: string, lastFrame?: { bytes: Buffer; type: string }): void {
    if (this.state === 'closed') return;
    this.inbox = undefined;
    this.held = undefined;
    // Frames routed to it before the reason to close are sent before its last frame.
    if (lastFrame) this.flush();
    this.outbox = undefined;
    this.state = 'closed';
    this.host.onClose(this, reason);
    const socket = this.socket;
    if (lastFrame && !socket.destroyed && socket.writableLength <= this.maxOutboundBytes) {
      socket.write(lastFrame.bytes);
      bytesOut.inc(lastFrame.bytes.length);
      countFrameOut(lastFrame.type);
      socket.resume();
      socket.end();
      this.linger = this.clock.setTimeout(() => socket.destroy(), LINGER_MS);
    } else {
      socket.destroy();
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastActivity = this.clock.now();
    bytesIn.inc(chunk.length);
    if (this.state === 'closed') return;
    handling = true;
    try {
      if (!this.framer.push(chunk, this.onRaw)) this.host.onOversize(this);
    } finally {
      handling = false;
      for (let i = 0; i < dirty.length; i++) dirty[i].flush();
      dirty.length = 0;
    }
  };

  private readonly onRaw = (raw: Buffer): boolean => {
    if (this.state === 'closed') return false;
    if (this.busy) {
      // A copy: a frame waiting in the inbox must not pin the socket's whole chunk.
      (this.inbox ??= []).push(Buffer.from(raw));
      if (this.inbox.length >= MAX_INBOX) this.socket.pause();
      return true;
    }
    this.run(raw);
    return !this.closed;
  };

  private run(raw: Buffer): void {
    const pending = this.host.onFrame(this, raw);
    if (pending) {
      this.busy = true;
      pending.then(this.next, this.next);
    }
  }

  private readonly next = (): void => {
    this.busy = false;
    while (!this.busy && !this.closed && this.inbox && this.inbox.length > 0) {
      this.run(this.inbox.shift()!);
    }
    if (!this.busy && !this.closed) {
      this.inbox = undefined;
      if (this.socket.isPaused()) this.socket.resume();
    }
  };

  private readonly onSocketClose = (): void => {
    this.clock.clearTimeout(this.linger);
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.inbox = undefined;
      this.held = undefined;
      this.host.onClose(this, 'peer_closed');
    }
  };
}

function noop(): void {}

/** Whether a chunk is being handled now (frames are handled synchronously within it). */
let handling = false;
/** Connections with frames in their outbox, flushed when the chunk is handled. */
const dirty: Connection[] = [];

// The gateway's side of a TCP connection to the cloud: sends batch frames and
// matches the cloud's answers to them by id. The socket only feeds the framer.
import net from 'node:net';
import { batchBody, SurveyBatch } from './batch';
import { CloudConnection, Connect, Delivery } from './forwarder';
import { encode, Frame, Framer } from './frame';

export interface CloudAddress {
  host: string;
  port: number;
}

/** Connects to the cloud at `address` over TCP. */
export function tcpCloud(address: CloudAddress): Connect {
  return () =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.host, port: address.port });
      socket.once('error', reject);
      socket.once('connect', () => {
        const connection = new TcpCloudConnection(socket);
        socket.off('error', reject);
        resolve(connection);
      });
    });
}

interface Waiting {
  resolve: (answer: Delivery) => void;
  reject: (err: Error) => void;
}

class TcpCloudConnection implements CloudConnection {
  private readonly framer = new Framer();
  private readonly waiting = new Map<string, Waiting>();
  private failure?: Error;

  constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.framer.push(chunk)) this.answer(frame);
      } catch (err) {
        this.fail(
          new Error(`the cloud sent something that is not a frame: ${(err as Error).message}`),
        );
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the cloud closed the connection')));
  }

  deliver(batch: SurveyBatch): Promise<Delivery> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(batch.id, { resolve, reject });
      const body = Buffer.from(batchBody(batch.lines));
      this.socket.write(
        encode({ kind: 'batch', id: batch.id, receivedAt: batch.receivedAt, body }),
      );
    });
  }

  close(): void {
    this.fail(new Error('the connection to the cloud was closed'));
  }

  private answer(frame: Frame): void {
    switch (frame.kind) {
      case 'received':
      case 'refused': {
        const waiting = this.waiting.get(frame.id);
        // An answer for a batch no longer awaited (sent on an earlier connection) is ignored.
        if (!waiting) return;
        this.waiting.delete(frame.id);
        waiting.resolve(
          frame.kind === 'received'
            ? { kind: 'received' }
            : { kind: 'refused', reason: frame.reason },
        );
        return;
      }
      case 'error':
        return this.fail(new Error(`the cloud: ${frame.reason}`));
      case 'batch':
        return this.fail(new Error('the cloud sent a batch: is this port a gateway?'));
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiting of this.waiting.values()) waiting.reject(this.failure);
    this.waiting.clear();
    this.socket.destroy();
  }
}

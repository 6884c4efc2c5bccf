// Loopback helpers for tests: free ports and waiting for a server to answer.
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';

// Ports are picked outside the kernel's ephemeral range. A port the kernel
// handed out for `listen(0)` is in that range, and between our probe closing
// it and the server under test binding it, any outgoing connection (a MariaDB
// client, a fetch) may be given the same number: a CI run once failed with
// "port … is already in use" that way. Outside the range only listeners that
// ask for the number can take it, and the ones we start are all listed here.
const handedOut = new Set<number>();

function candidatePorts(): [number, number] {
  let low = 32768;
  let high = 60999;
  try {
    [low, high] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
  } catch {
    // Not Linux: keep Linux's defaults.
  }
  const below: [number, number] = [10_000, low - 1];
  const above: [number, number] = [high + 1, 65_535];
  return below[1] - below[0] >= above[1] - above[0] ? below : above;
}

function canBind(port: number, kind: 'tcp' | 'udp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (kind === 'udp') {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
      return;
    }
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function pickPort(kind: 'tcp' | 'udp'): Promise<number> {
  const [first, last] = candidatePorts();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = first + Math.floor(Math.random() * (last - first + 1));
    if (handedOut.has(port)) continue;
    if (await canBind(port, kind)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free ${kind} port on 127.0.0.1 between ${first} and ${last}`);
}

/** A TCP port free on 127.0.0.1 now, outside the ephemeral range, not handed out before. */
export function freePort(): Promise<number> {
  return pickPort('tcp');
}

/** A UDP port free on 127.0.0.1 now, outside the ephemeral range, not handed out before. */
export function freeUdpPort(): Promise<number> {
  return pickPort('udp');
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `check` until it resolves, or rejects with its last error after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(intervalMs);
    }
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export function waitForPort(port: number, timeoutMs: number): Promise<void> {
  return waitFor(
    () =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      }),
    timeoutMs,
  );
}

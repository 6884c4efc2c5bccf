// Benchmark peer process: runs one server (`eot`, a raw `echo`, or `aedes`)
// on a loopback port and reports its memory after a garbage collection when
// asked over IPC. Started by bench/eot.ts with --expose-gc; never on its own.
import net from 'node:net';
import { Aedes } from 'aedes';
import type * as Server from '../../lib/eot/server';
import type * as RegistryModule from '../../lib/registry/registry';
import type * as StoreModule from '../../lib/store/store';

// The server runs from dist/, as in production (`npm run build` first): the
// TypeScript loader's module shims would cost time on the hot path.
function built<T>(module: string): T {
  try {
    // A path known only at run time, and without types: dist/ has no declarations.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`../../dist/lib/${module}`) as T;
  } catch {
    throw new Error('run `npm run build` before the benchmark');
  }
}
const { EotServer } = built<typeof Server>('eot/server');
const { Registry } = built<typeof RegistryModule>('registry/registry');
const { openStore } = built<typeof StoreModule>('store/store');

type Request = { cmd: 'mem' } | { cmd: 'stop' };

async function main(): Promise<void> {
  const [mode, file, secret] = process.argv.slice(2);
  let port: number;
  let connections: () => number;
  let stop: () => Promise<void>;
  if (mode === 'eot') {
    const store = await openStore({ kind: 'sqlite', file });
    const registry = new Registry(store.db, { credentialSecret: secret });
    const server = new EotServer(
      {
        port: 0,
        host: '127.0.0.1',
        idleTimeoutMs: 0,
        // One load generator opens every connection: no per-address limits.
        maxHandshakesPerAddress: 100_000,
        maxConnections: 0,
        throttle: { maxFailures: 0 },
      },
      { directory: registry, db: store.db },
    );
    port = (await server.start()).port!;
    connections = () => server.connectionCount;
    stop = async () => {
      await server.stop();
      await registry.close();
      await store.close();
    };
  } else if (mode === 'echo') {
    const sockets = new Set<net.Socket>();
    const server = net.createServer({ noDelay: true }, (socket) => {
      sockets.add(socket);
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    connections = () => sockets.size;
    stop = async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
  } else if (mode === 'aedes') {
    const broker = await Aedes.createBroker();
    const server = net.createServer((socket) => broker.handle(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    connections = () => broker.connectedClients;
    stop = async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  process.on('message', (request: Request) => {
    if (request.cmd === 'mem') {
      for (let i = 0; i < 3; i++) global.gc?.();
      const m = process.memoryUsage();
      process.send!({
        rss: m.rss,
        heapUsed: m.heapUsed,
        external: m.external,
        connections: connections(),
      });
    } else if (request.cmd === 'stop') {
      stop().then(() => process.exit(0));
    }
  });
  process.send!({ ready: true, port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

// Benchmark peer process: one Sensflow instance as far as EOT routing goes
// (the store on MariaDB, its lease and bus on Mosquitto, an EOT server in the
// cluster) on a loopback port; reports its CPU time when asked over IPC.
// Started by bench/scale-out.ts; never on its own.
import type * as ClusterModule from '../../lib/cluster/cluster';
import type * as Server from '../../lib/eot/server';
import type * as RegistryModule from '../../lib/registry/registry';
import type * as StoreModule from '../../lib/store/store';
import type * as ClockModule from '../../lib/util/clock';
import type * as MetricsModule from '../../lib/cluster/metrics';

// From dist/, as in production (`npm run build` first).
function built<T>(module: string): T {
  try {
    // A path known only at run time, and without types: dist/ has no declarations.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(`../../dist/lib/${module}`) as T;
  } catch {
    throw new Error('run `npm run build` before the benchmark');
  }
}
const { Cluster } = built<typeof ClusterModule>('cluster/cluster');
const { EotServer } = built<typeof Server>('eot/server');
const { Registry } = built<typeof RegistryModule>('registry/registry');
const { openStore } = built<typeof StoreModule>('store/store');
const { systemClock } = built<typeof ClockModule>('util/clock');
const { clusterMetrics } = built<typeof MetricsModule>('cluster/metrics');

/** Batches sent again for want of an acknowledgement in time. */
async function resends(): Promise<number> {
  return (await clusterMetrics.busResends.get()).values[0]?.value ?? 0;
}

const quiet = {
  error: console.error,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

async function main(): Promise<void> {
  const [id, mysqlUrl, mqttUrl, secret] = process.argv.slice(2);
  const store = await openStore({ kind: 'mysql', url: mysqlUrl });
  const registry = new Registry(store.db, { credentialSecret: secret });
  const cluster = await Cluster.start({
    id,
    db: store.db,
    broker: { url: mqttUrl },
    ttlMs: 5000,
    clock: systemClock,
    logger: quiet,
    onEvicted: () => process.exit(3),
  });
  const server = new EotServer(
    {
      port: 0,
      host: '127.0.0.1',
      idleTimeoutMs: 0,
      maxHandshakesPerAddress: 100_000,
      maxConnections: 0,
      throttle: { maxFailures: 0 },
    },
    { directory: registry, db: store.db, cluster: { view: cluster, serverId: 'eot' } },
  );
  const { port } = await server.start();
  process.on('message', (request: { cmd: string }) => {
    if (request.cmd === 'cpu') {
      const { user, system } = process.cpuUsage();
      void resends().then((n) =>
        process.send!({
          cpuMs: (user + system) / 1000,
          members: cluster.members().length,
          resends: n,
        }),
      );
    } else if (request.cmd === 'stop') {
      (async () => {
        await server.stop();
        await cluster.stop();
        await registry.close();
        await store.close();
      })().finally(() => process.exit(0));
    }
  });
  process.send!({ ready: true, port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

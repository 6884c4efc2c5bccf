// Scale-out: with SENSFLOW_MYSQL_URL and SENSFLOW_MQTT_URL set, this server is
// one of possibly several instances in front of the same MySQL/MariaDB and
// Mosquitto. It takes its instance lease first (a live duplicate id stops the
// start), joins the bus to the other instances, and makes the cluster known to
// the nodes that take part. A lost lease stops the process, so two processes
// never serve under one id.
import { Cluster } from '../../lib/cluster/cluster';
import { clusterMetrics } from '../../lib/cluster/metrics';
import { setCurrentCluster } from '../../lib/cluster/shared';
import { systemClock } from '../../lib/util/clock';
import type { Extension, LauncherContext } from './extensions';

export const clusterExtension: Extension = {
  name: 'scale-out',
  async start(ctx: LauncherContext) {
    const { settings, logger } = ctx;
    const mqttUrl = settings.external.mqttUrl;
    if (!settings.external.mysqlUrl || !mqttUrl) return;
    const broker = new URL(mqttUrl.toString());
    broker.username = '';
    broker.password = '';
    const cluster = await Cluster.start({
      id: settings.instanceId,
      db: ctx.store.db,
      broker: {
        url: broker.toString(),
        username: ctx.brokerLogin?.username,
        password: ctx.brokerLogin?.password,
      },
      ttlMs: settings.scaleOut.leaseMs,
      clock: systemClock,
      logger,
      // The CLI's signal handler stops everything cleanly; systemd starts it again.
      onEvicted: () => process.kill(process.pid, 'SIGTERM'),
    });
    setCurrentCluster(cluster, ctx.store);
    logger.info(`instance ${cluster.id} joined ${cluster.members().length - 1} other instance(s)`);
    ctx.health.add({
      name: 'cluster',
      backend: `instance ${cluster.id}`,
      check: async () => cluster.check(),
    });
    const lease = setInterval(() => {
      try {
        cluster.check();
        clusterMetrics.leaseHealthy.set(1);
      } catch {
        clusterMetrics.leaseHealthy.set(0);
      }
      clusterMetrics.busPending.set(cluster.pending());
    }, 1000);
    lease.unref();
    return {
      async stop() {
        clearInterval(lease);
        setCurrentCluster(undefined);
        await cluster.stop();
      },
    };
  },
};

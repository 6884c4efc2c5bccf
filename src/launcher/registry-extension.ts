// The device registry's part of the server: the provisioning endpoints and
// the admin REST API, the broker's access rules from the registry (embedded
// aedes, or Mosquitto's dynamic security), the listener that turns device
// status messages into signs of life, and the devices-by-state metric. With
// several instances, statuses come through a shared subscription and one
// instance at a time keeps Mosquitto's dynamic security in step.
import { DynsecSync } from '../../lib/broker/dynsec';
import { clusterFor } from '../../lib/cluster/shared';
import { enforceRegistry } from '../../lib/broker/registry-policy';
import { servicePolicy } from '../../lib/broker/service-policy';
import { StatusListener } from '../../lib/registry/liveness';
import { trackDeviceStates } from '../../lib/registry/metrics';
import { registryFor } from '../../lib/registry/shared';
import { systemClock } from '../../lib/util/clock';
import { adminRouter } from '../api/admin';
import { provisioningRouter } from '../api/provisioning';
import type { Extension, LauncherContext } from './extensions';

export const registryExtension: Extension = {
  name: 'device registry',
  async start(ctx: LauncherContext) {
    const { settings, logger } = ctx;
    const registry = registryFor(ctx.store, ctx.secrets.credentialSecret, logger);
    const cluster = clusterFor(ctx.store);
    const stops: Array<() => Promise<void> | void> = [];
    stops.push(trackDeviceStates(ctx.store.db, systemClock));

    const mqttUrl = settings.external.mqttUrl;
    let dynsec: DynsecSync | undefined;
    if (mqttUrl && settings.external.dynsec) {
      const sync = new DynsecSync({
        url: mqttUrl,
        admin: settings.external.dynsec,
        registry,
        logger,
        reserved: ctx.brokerLogin ? [ctx.brokerLogin.username] : [],
        // One of several instances: one of them keeps Mosquitto in step.
        leads: cluster && (() => cluster.owns('dynsec')),
      });
      dynsec = sync;
      stops.push(() => sync.close());
      if (cluster) {
        let leading = cluster.owns('dynsec');
        stops.push(
          cluster.onMembership(() => {
            const now = cluster.owns('dynsec');
            if (now && !leading) sync.reconcile();
            leading = now;
          }),
        );
      }
      ctx.health.add({
        name: 'dynsec',
        backend: 'mosquitto dynamic security',
        check: async () => {
          if (!sync.connected) throw new Error('not connected');
        },
      });
    }
    if (ctx.broker && ctx.brokerLogin) {
      stops.push(enforceRegistry(ctx.broker, registry, servicePolicy(ctx.brokerLogin), logger));
    }

    ctx.app.use(
      provisioningRouter({
        registry,
        logger,
        clock: systemClock,
        ratePerMinute: settings.provisioning.ratePerMinute,
        mqtt: {
          host: settings.provisioning.publicHost,
          port: mqttUrl ? Number(mqttUrl.port || 1883) : (ctx.broker?.ports.tcp ?? 1883),
        },
        onPasswordIssued:
          dynsec && ((device, login, pw) => dynsec.passwordIssued(device, login, pw)),
      }),
    );
    ctx.app.use(
      '/api/v1',
      adminRouter({
        registry,
        logger,
        requireAdmin: ctx.requireAdmin,
        apiToken: settings.security.apiToken,
      }),
    );

    // Signs of life from `<base>/device`, through the broker devices use.
    const statusUrl = mqttUrl
      ? withoutLogin(mqttUrl)
      : `mqtt://${localHost(settings.mqtt.host)}:${ctx.broker?.ports.tcp ?? settings.mqtt.port}`;
    const listener = new StatusListener({
      url: statusUrl,
      username: ctx.brokerLogin?.username,
      password: ctx.brokerLogin?.password,
      directory: registry,
      clock: systemClock,
      logger,
      // One of several instances: each status is recorded by one of them.
      shareGroup: cluster ? 'sensflow-liveness' : undefined,
    });
    stops.push(() => listener.close());

    return {
      async stop() {
        for (const stop of stops.reverse()) await stop();
      },
    };
  },
};

function withoutLogin(url: URL): string {
  const copy = new URL(url.toString());
  copy.username = '';
  copy.password = '';
  return copy.toString();
}

/** Where this process reaches a listener bound to `host`. */
function localHost(host: string): string {
  if (['0.0.0.0', '::'].includes(host)) return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

// Starts a whole Sensflow server in this process: the store, the broker
// (embedded or external), health and metrics, and Node-RED embedded in express
// with Dashboard 2.0 and our nodes. Returns a handle that stops it all cleanly.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import type { RequestHandler } from 'express';
import RED from 'node-red';
import { EmbeddedBroker } from '../../lib/broker/embedded-broker';
import { ExternalBroker } from '../../lib/broker/external-broker';
import { aedesInProcess, inProcessBroker, setInProcessBroker } from '../../lib/broker/in-process';
import { serviceLogin, servicePolicy, ServiceLogin } from '../../lib/broker/service-policy';
import { redactUrl, SettingError } from '../../lib/config/parse';
import { dashboardSessions } from '../../lib/dashboard/sessions';
import { HealthMonitor } from '../../lib/ops/health';
import { collectProcessMetrics, gauge } from '../../lib/ops/metrics';
import { registryFor } from '../../lib/registry/shared';
import { acquireStore, setDefaultStoreSpec } from '../../lib/store/shared';
import { StoreSpec } from '../../lib/store/store';
import { Logger } from '../../lib/util/log';
import { packageVersion } from '../../lib/util/package-root';
import type { SensflowSettings } from '../../settings';
import { isFirstStart, readFlowFile, withBrokerLogin } from './flows-seed';
import { prepareHome, storeSpecOf } from './home';
import { apiNotFound } from '../api/http-errors';
import { extensions, LauncherContext } from './extensions';
import { createApp, mountNodeRed } from './http';
import { anyOf, cached, LoginGate, registryUsers, remembered, singleUser } from './login-check';
import { nodeRedSettings } from './red-settings';

export interface RunningSensflow {
  /** The editor's URL; the dashboard is at `${url}dashboard`. */
  url: string;
  ports: { http: number; mqtt?: number; mqttTls?: number };
  adminUser: string;
  /** Set on the start that generated the admin password: print it once. */
  generatedPassword?: string;
  /** Whether this start deployed flows/default.json into an empty home. */
  seededFlows: boolean;
  stop(): Promise<void>;
}

const backendUp = gauge('sensflow_backend_up', 'Whether a backend answers (1) or not (0)', [
  'component',
]);
const info = gauge('sensflow_info', 'Sensflow version and instance', ['version', 'instance']);

export async function startSensflow(
  settings: SensflowSettings,
  logger: Logger,
): Promise<RunningSensflow> {
  const closers: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      await Promise.resolve(close()).catch((err: unknown) =>
        logger.warn(`shutdown: ${String(err)}`),
      );
    }
  };
  try {
    const secrets = await prepareHome(settings);
    collectProcessMetrics();
    info.set({ version: packageVersion(), instance: settings.instanceId }, 1);
    const health = new HealthMonitor({
      logger,
      onChange: (name, up) => backendUp.set({ component: name }, up ? 1 : 0),
    });
    closers.push(() => health.stop());

    // The store: an unreachable MySQL stops the start (StoreUnavailableError).
    const storeSpec: StoreSpec = storeSpecOf(settings);
    setDefaultStoreSpec(storeSpec);
    const store = await acquireStore(storeSpec);
    closers.push(() => store.release());
    health.add({
      name: 'store',
      backend: store.store.description,
      check: () => store.store.ping(),
    });

    // The broker: external when configured (retried in the background), else embedded.
    let broker: EmbeddedBroker | undefined;
    let brokerLogin: ServiceLogin | undefined;
    const mqttUrl = settings.external.mqttUrl;
    if (mqttUrl) {
      brokerLogin = mqttUrl.username
        ? {
            username: decodeURIComponent(mqttUrl.username),
            password: decodeURIComponent(mqttUrl.password),
          }
        : undefined;
      const external = new ExternalBroker(mqttUrl, logger, `${settings.instanceId}-health`);
      closers.push(() => external.close());
      health.add({ name: 'broker', backend: redactUrl(mqttUrl), check: () => external.check() });
    } else {
      const login = serviceLogin(secrets.credentialSecret);
      brokerLogin = login;
      broker = await onPort('SENSFLOW_MQTT_PORT', settings.mqtt.port, () =>
        EmbeddedBroker.start({
          dataDir: path.join(settings.home, 'mqtt'),
          host: settings.mqtt.host,
          port: settings.mqtt.port,
          tls: settings.mqtt.tls && {
            port: settings.mqtt.tls.port,
            key: readSettingFile('SENSFLOW_MQTT_TLS_KEY', settings.mqtt.tls.keyFile),
            cert: readSettingFile('SENSFLOW_MQTT_TLS_CERT', settings.mqtt.tls.certFile),
          },
          policy: servicePolicy(login),
          logger,
        }),
      );
      const embedded = broker;
      closers.push(() => embedded.close());
      // The flows' broker-in nodes subscribe in this process, without a socket.
      const inProcess = aedesInProcess(
        embedded.aedes,
        flowBrokerHost(settings),
        embedded.ports.tcp,
      );
      setInProcessBroker(inProcess);
      closers.push(() => {
        if (inProcessBroker() === inProcess) setInProcessBroker(undefined);
      });
      health.add({
        name: 'broker',
        backend: 'embedded',
        check: async () => {
          if (!embedded.running) throw new Error('not running');
        },
      });
    }

    // History: InfluxDB when configured, else the store itself.
    const influxUrl = settings.external.influxUrl;
    if (influxUrl) {
      health.add({
        name: 'history',
        backend: redactUrl(influxUrl),
        check: () => pingInflux(influxUrl),
      });
    } else {
      health.add({
        name: 'history',
        backend: store.store.description,
        check: () => store.store.ping(),
      });
    }

    // HTTP: operations endpoints, Node-RED, the dashboard, MQTT over WebSocket.
    // The dashboard asks for a login once SENSFLOW_DASHBOARD_USER is set or
    // the registry holds a dashboard user (added from the API or the CLI).
    const registry = registryFor(store.store, secrets.credentialSecret, logger);
    const configured = settings.security.dashboardAuth;
    const dashboardLogin: LoginGate = {
      verify: cached(
        configured
          ? anyOf(
              singleUser(configured.user, await hashOf(configured.password)),
              registryUsers(registry.users),
            )
          : registryUsers(registry.users),
      ),
      required: configured ? async () => true : remembered(() => registry.users.any()),
    };
    // Every dashboard connection is bound to its user (red-settings.ts), so a
    // connection nobody bound is nobody.
    dashboardSessions.enforce();
    const app = createApp({
      health,
      metricsToken: settings.security.metricsToken,
      staticDir: settings.http.staticDir,
    });
    const server = settings.http.tls
      ? https.createServer(
          {
            key: readSettingFile('SENSFLOW_HTTPS_KEY', settings.http.tls.keyFile),
            cert: readSettingFile('SENSFLOW_HTTPS_CERT', settings.http.tls.certFile),
          },
          app,
        )
      : http.createServer(app);
    const connections = trackConnections(server);
    closers.push(() => closeServer(server, connections));
    if (broker && settings.mqtt.wsPath) broker.attachWebSocket(server, settings.mqtt.wsPath);

    const ctx: LauncherContext = {
      settings,
      secrets,
      store: store.store,
      app,
      server,
      health,
      logger,
      broker,
      brokerLogin,
      // Node-RED's own check of admin tokens; its strategies exist once RED.init ran.
      requireAdmin: (req, res, next) =>
        (RED.auth.needsPermission('*') as RequestHandler)(req, res, next),
    };
    for (const extension of extensions) {
      const started = await extension.start(ctx);
      if (started) closers.push(() => started.stop());
      logger.debug(`started ${extension.name}`);
    }
    // After every extension's routers: an unknown API path is a JSON 404,
    // never Node-RED's editor page.
    app.use('/api/v1', apiNotFound);

    RED.init(
      server,
      nodeRedSettings(settings, secrets, dashboardLogin) as unknown as Parameters<
        typeof RED.init
      >[1],
    );
    mountNodeRed(app, RED.httpAdmin, RED.httpNode, dashboardLogin);
    await onPort('SENSFLOW_PORT', settings.http.port, () =>
      listen(server, settings.http.port, settings.http.host),
    );
    const httpPort = (server.address() as net.AddressInfo).port;
    Object.assign(process.env, flowEnvironment(settings, httpPort, broker?.ports.tcp));

    const seededFlows = isFirstStart(settings.home);
    await RED.start();
    closers.push(() => RED.stop());
    if (seededFlows) {
      await RED.runtime.flows.setFlows({
        flows: { flows: withBrokerLogin(readFlowFile(), brokerLogin) },
        deploymentType: 'full',
      } as unknown as Parameters<typeof RED.runtime.flows.setFlows>[0]);
      logger.info('deployed the default flows (first start)');
    }
    health.watch();

    const shownHost = ['0.0.0.0', '::'].includes(settings.http.host)
      ? 'localhost'
      : settings.http.host;
    return {
      url: `${settings.http.tls ? 'https' : 'http'}://${shownHost}:${httpPort}/`,
      ports: { http: httpPort, mqtt: broker?.ports.tcp, mqttTls: broker?.ports.tls },
      adminUser: secrets.admin.user,
      generatedPassword: secrets.admin.generatedPassword,
      seededFlows,
      stop: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** What flows see as environment variables (`${SENSFLOW_…}` in node properties). */
function flowEnvironment(
  settings: SensflowSettings,
  httpPort: number,
  embeddedPort: number | undefined,
): Record<string, string> {
  const mqttUrl = settings.external.mqttUrl;
  return {
    SENSFLOW_MQTT_BROKER_HOST: mqttUrl ? mqttUrl.hostname : flowBrokerHost(settings),
    SENSFLOW_MQTT_BROKER_PORT: String(mqttUrl ? Number(mqttUrl.port || 1883) : embeddedPort),
    SENSFLOW_EOT_PORT: String(settings.eot.port),
    SENSFLOW_SURVEY_HOST: settings.surveys.host,
    SENSFLOW_SURVEY_UDP_PORT: String(settings.surveys.udpPort),
    SENSFLOW_SURVEY_CLOUD_PORT: String(settings.surveys.cloudPort),
    SENSFLOW_HTTP_PORT: String(httpPort),
    SENSFLOW_SITE: settings.site,
    SENSFLOW_INSTANCE_ID: settings.instanceId,
  };
}

/** The address the flows reach the embedded broker at. */
function flowBrokerHost(settings: SensflowSettings): string {
  return ['0.0.0.0', '::'].includes(settings.mqtt.host) ? '127.0.0.1' : settings.mqtt.host;
}

async function hashOf(password: string): Promise<string> {
  return /^\$2[aby]\$/.test(password) ? password : bcrypt.hash(password, 10);
}

function readSettingFile(setting: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new SettingError(
      setting,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** Runs a listen, turning "port taken" into an error that names the setting. */
async function onPort<T>(setting: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new SettingError(setting, `port ${port} is already in use`);
    if (code === 'EACCES')
      throw new SettingError(setting, `no permission to listen on port ${port}`);
    if (code === 'EADDRNOTAVAIL')
      throw new SettingError(setting, 'the host address is not on this machine');
    throw err;
  }
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Every socket the server accepted, until it closes. */
function trackConnections(server: http.Server | https.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

function closeServer(server: http.Server | https.Server, sockets: Set<net.Socket>): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive connections would hold close() open, and so would WebSockets
    // (open dashboard pages, the editor, MQTT over WebSocket), which
    // closeAllConnections() no longer sees once upgraded.
    server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
  });
}

function pingInflux(url: URL): Promise<void> {
  const ping = new URL('/ping', url);
  return fetch(ping, { signal: AbortSignal.timeout(2000) }).then((res) => {
    if (res.status !== 204) throw new Error(`ping answered ${res.status}`);
  });
}

/**
 * Sensflow settings.
 *
 * Like Node-RED's own settings.js, this file is the one place that says how a
 * Sensflow server is set up. Every value has a default that works on a fresh
 * machine with no external server, and every value can be overridden by an
 * environment variable (listed in the README's settings table), so a service
 * manager or a container sets them without editing code.
 *
 * The file is divided into sections:
 *  - Paths and identity
 *  - HTTP server (editor, dashboard, APIs)
 *  - Security
 *  - Embedded MQTT broker
 *  - Device protocols
 *  - Device provisioning
 *  - External services (MQTT broker, MySQL/MariaDB, InfluxDB)
 *  - Scale-out (several instances on one database and one broker)
 *  - History
 *  - Demo
 *  - Operations and logging
 *
 * A value that cannot be parsed stops the start with one line naming the
 * variable (see lib/config/parse.ts).
 */
import path from 'node:path';
import { Env, integer, oneOf, port, read, SettingError, url } from './lib/config/parse';
import { DEFAULT_CLOUD_PORT, DEFAULT_UDP_PORT } from './lib/surveys/defaults';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
/** The default site's name in MQTT topics, as in the seed (topics.md). */
export const DEFAULT_SITE = 'UT3';

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export interface TlsFiles {
  keyFile: string;
  certFile: string;
}

export interface SensflowSettings {
  /*******************************************************************************
   * Paths and identity
   ******************************************************************************/

  /** The user directory: flows, credentials, the embedded database and broker
   *  state live here. SENSFLOW_HOME, default `./.sensflow`. */
  home: string;
  /** Name of this instance, unique among servers sharing one database.
   *  SENSFLOW_INSTANCE_ID, default `sensflow-1`. */
  instanceId: string;
  /** Name of the default site in MQTT topics (topics.md). SENSFLOW_SITE, default `UT3`. */
  site: string;

  /*******************************************************************************
   * HTTP server
   *  - the editor is served at `/`, the dashboard at `/dashboard`, as in stock
   *    Node-RED; the admin API, provisioning and operations endpoints share it.
   ******************************************************************************/

  http: {
    /** Interface to listen on. SENSFLOW_HOST, default all interfaces. */
    host: string;
    /** SENSFLOW_PORT, default 1880. */
    port: number;
    /** Serve HTTPS with this key and certificate (PEM files).
     *  SENSFLOW_HTTPS_KEY and SENSFLOW_HTTPS_CERT, both or neither. */
    tls?: TlsFiles;
    /** A folder of static files served at `/static` (Node-RED's httpStatic).
     *  SENSFLOW_HTTP_STATIC. */
    staticDir?: string;
  };

  /*******************************************************************************
   * Security
   *  - the editor and its admin API always require a login;
   *  - the admin password is generated on first start when none is given, and
   *    only its bcrypt hash is kept;
   *  - the credential secret encrypts flow credentials and device serials.
   ******************************************************************************/

  security: {
    /** SENSFLOW_ADMIN_USER, default `admin`. */
    adminUser: string;
    /** Plain password or bcrypt hash. SENSFLOW_ADMIN_PASSWORD; when unset, one is
     *  generated on first start, printed once, and its hash kept in the home. */
    adminPassword?: string;
    /** SENSFLOW_CREDENTIAL_SECRET; when unset, generated once and kept in a file
     *  only the owner can read. */
    credentialSecret?: string;
    /** Login for the dashboard and other flow HTTP endpoints (Node-RED's
     *  httpNodeAuth). SENSFLOW_DASHBOARD_USER and SENSFLOW_DASHBOARD_PASSWORD
     *  (plain or bcrypt), both or neither; off by default. */
    dashboardAuth?: { user: string; password: string };
    /** Bearer token required by `/metrics`. SENSFLOW_METRICS_TOKEN; open when unset. */
    metricsToken?: string;
    /** Bearer token accepted by the admin REST API (`/api/v1/`) besides the
     *  editor's admin tokens, for scripts. SENSFLOW_API_TOKEN (16 characters
     *  at least); unset: editor tokens only. */
    apiToken?: string;
  };

  /*******************************************************************************
   * Embedded MQTT broker
   *  - used when SENSFLOW_MQTT_URL is unset; retained messages and QoS 1/2
   *    sessions are kept in the home and survive a restart;
   *  - MQTT over WebSocket is served on the HTTP port at `wsPath`.
   ******************************************************************************/

  mqtt: {
    /** SENSFLOW_MQTT_HOST, default all interfaces. */
    host: string;
    /** SENSFLOW_MQTT_PORT, default 1883. */
    port: number;
    /** SENSFLOW_MQTT_WS_PATH, default `/mqtt`; `off` disables it. */
    wsPath?: string;
    /** MQTT over TLS: SENSFLOW_MQTT_TLS_PORT (default 8883) with
     *  SENSFLOW_MQTT_TLS_KEY and SENSFLOW_MQTT_TLS_CERT. */
    tls?: TlsFiles & { port: number };
  };

  /*******************************************************************************
   * Device protocols
   ******************************************************************************/

  eot: {
    /** Port of the default flow's EOT server. SENSFLOW_EOT_PORT, default 4004. */
    port: number;
  };

  /** The smart-meter scenario (flows/smart-meter.json): meters send their
   *  surveys over UDP to a gateway, which forwards them over TCP to a cloud
   *  endpoint. Flows see these as ${SENSFLOW_SURVEY_…} variables; in a stock
   *  Node-RED, where they are unset, the nodes use the same defaults. */
  surveys: {
    /** Interface the gateway listens on for meters. SENSFLOW_SURVEY_HOST,
     *  default all interfaces. */
    host: string;
    /** The gateway's UDP port. SENSFLOW_SURVEY_UDP_PORT, default 10005. */
    udpPort: number;
    /** The cloud endpoint's TCP port (on 127.0.0.1 in the shipped flow).
     *  SENSFLOW_SURVEY_CLOUD_PORT, default 8001. */
    cloudPort: number;
  };

  /*******************************************************************************
   * Device provisioning
   *  - `GET /device/credentials` and `GET /device/config` (topics.md) answer
   *    devices with what they need to reach the broker;
   *  - `sensflow devices provision` writes the server name and port into a
   *    device's flash.
   ******************************************************************************/

  provisioning: {
    /** The host name devices use to reach this server (the broker in
     *  /device/config, the server name in `devices provision`).
     *  SENSFLOW_PUBLIC_HOST; unset: the host the request was sent to, or this
     *  machine's name for `devices provision`. */
    publicHost?: string;
    /** Requests one address may make to the provisioning endpoints per
     *  minute before it gets 429. SENSFLOW_PROVISION_RATE, default 30. */
    ratePerMinute: number;
  };

  /*******************************************************************************
   * External services
   *  - each replaces an embedded default when set; a password in a URL is
   *    never logged.
   ******************************************************************************/

  external: {
    /** A broker to use instead of the embedded one, e.g.
     *  `mqtt://sensflow:secret@127.0.0.1:1883`. SENSFLOW_MQTT_URL. */
    mqttUrl?: URL;
    /** MySQL or MariaDB instead of the embedded SQLite store, e.g.
     *  `mysql://sensflow:secret@127.0.0.1:3306/sensflow`. SENSFLOW_MYSQL_URL. */
    mysqlUrl?: URL;
    /** InfluxDB 1.x for history instead of the embedded store, e.g.
     *  `http://127.0.0.1:8086/sensflow`. SENSFLOW_INFLUX_URL. */
    influxUrl?: URL;
    /** The administrator login of Mosquitto's dynamic-security plugin, used
     *  to keep its clients and roles in step with the device registry.
     *  SENSFLOW_MQTT_DYNSEC_USER and SENSFLOW_MQTT_DYNSEC_PASSWORD, both or
     *  neither, only with SENSFLOW_MQTT_URL. */
    dynsec?: { user: string; password: string };
  };

  /*******************************************************************************
   * Scale-out
   *  - with SENSFLOW_MYSQL_URL and SENSFLOW_MQTT_URL both set, this server is
   *    one instance among any number in front of the same database and broker
   *    (docs/scale-out.md); each needs its own SENSFLOW_INSTANCE_ID;
   *  - each instance renews a lease in the database; one silent for the lease
   *    time is declared lost and its devices, commands and timers are taken
   *    over by the others.
   ******************************************************************************/

  scaleOut: {
    /** Seconds an instance may go without renewing its lease before the others
     *  take over its work. SENSFLOW_INSTANCE_LEASE, default 5 (2 to 600). */
    leaseMs: number;
  };

  /*******************************************************************************
   * History
   *  - the default history is InfluxDB when SENSFLOW_INFLUX_URL is set, else
   *    the embedded store;
   *  - every point is first appended to an on-disk spool (fsynced before the
   *    message is acknowledged) and sent from there, so InfluxDB may be down
   *    for a while; when the spool reaches its limit, the oldest unsent
   *    points are dropped (counted in sensflow_history_points_dropped_total);
   *  - the embedded history keeps points for a number of days (InfluxDB has
   *    its own retention policies): older ones are deleted in the background,
   *    a small batch at a time.
   ******************************************************************************/

  history: {
    /** Folder of the spools, one sub-folder per history-store node.
     *  SENSFLOW_HISTORY_SPOOL_DIR, default `$SENSFLOW_HOME/history-spool`. */
    spoolDir: string;
    /** Size limit of each spool in bytes. SENSFLOW_HISTORY_SPOOL_MB, default 512 (MiB). */
    spoolMaxBytes: number;
    /** Days the embedded history keeps a point (by the point's time); 0 keeps
     *  points forever. SENSFLOW_HISTORY_RETENTION_DAYS, default 30. */
    retentionDays: number;
  };

  /*******************************************************************************
   * Demo
   *  - on the first start (an empty home), two customers with simulated devices
   *    are added to the registry (`demo-campus`, `demo-home`; devices `demo-…`,
   *    device types `demo_…`), and the default flow's device-simulator node runs them,
   *    so every dashboard page shows live data at once;
   *  - `sensflow demo remove` takes it all out again, `sensflow demo add` back.
   ******************************************************************************/

  /** SENSFLOW_DEMO: `on` (default) or `off` (a first start adds no demo devices). */
  demo: boolean;

  /*******************************************************************************
   * Operations and logging
   ******************************************************************************/

  /** SENSFLOW_LOG_LEVEL: fatal, error, warn, info (default), debug, trace. */
  logLevel: LogLevel;
  /** Seconds the shutdown may take before the process exits anyway.
   *  SENSFLOW_SHUTDOWN_TIMEOUT, default 5. */
  shutdownTimeoutSeconds: number;
}

function tlsPair(env: Env, keyName: string, certName: string, cwd: string): TlsFiles | undefined {
  const keyFile = read(env, keyName);
  const certFile = read(env, certName);
  if (!keyFile && !certFile) return undefined;
  if (!keyFile) throw new SettingError(keyName, `must be set together with ${certName}`);
  if (!certFile) throw new SettingError(certName, `must be set together with ${keyName}`);
  return { keyFile: path.resolve(cwd, keyFile), certFile: path.resolve(cwd, certFile) };
}

function loginPair(env: Env, userName: string, passName: string) {
  const user = read(env, userName);
  const password = read(env, passName);
  if (!user && !password) return undefined;
  if (!user) throw new SettingError(userName, `must be set together with ${passName}`);
  if (!password) throw new SettingError(passName, `must be set together with ${userName}`);
  return { user, password };
}

function wsPath(env: Env): string | undefined {
  const raw = read(env, 'SENSFLOW_MQTT_WS_PATH') ?? '/mqtt';
  if (raw === 'off') return undefined;
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(raw)) {
    throw new SettingError('SENSFLOW_MQTT_WS_PATH', `"${raw}" is not an absolute URL path`);
  }
  return raw;
}

/** A service URL whose path names the database, e.g. `mysql://…/sensflow`. */
function databaseUrl(env: Env, name: string, protocols: readonly string[]): URL | undefined {
  const parsed = url(env, name, protocols);
  if (parsed && !/^\/[A-Za-z0-9_$-]{1,64}$/.test(parsed.pathname)) {
    throw new SettingError(name, 'the URL path must name the database, e.g. /sensflow');
  }
  return parsed;
}

function identifier(env: Env, name: string, fallback: string): string {
  const raw = read(env, name) ?? fallback;
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(raw)) {
    throw new SettingError(name, `"${raw}" must be 1-64 of A-Z a-z 0-9 _ . : -`);
  }
  return raw;
}

function apiToken(env: Env): string | undefined {
  const token = read(env, 'SENSFLOW_API_TOKEN');
  if (token !== undefined && token.length < 16) {
    throw new SettingError('SENSFLOW_API_TOKEN', 'must be at least 16 characters');
  }
  return token;
}

function publicHost(env: Env): string | undefined {
  const host = read(env, 'SENSFLOW_PUBLIC_HOST');
  if (host !== undefined && !/^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$/.test(host)) {
    throw new SettingError('SENSFLOW_PUBLIC_HOST', `"${host}" is not a host name or address`);
  }
  return host;
}

/** An interface address to listen on (an IP address, or a host name). */
function listenHost(env: Env, name: string, fallback: string): string {
  const host = read(env, name) ?? fallback;
  if (!/^[A-Za-z0-9.-]{1,253}$|^[0-9A-Fa-f:.]+$/.test(host)) {
    throw new SettingError(name, `"${host}" is not an interface address`);
  }
  return host;
}

function dynsec(env: Env, mqttUrl: URL | undefined) {
  const login = loginPair(env, 'SENSFLOW_MQTT_DYNSEC_USER', 'SENSFLOW_MQTT_DYNSEC_PASSWORD');
  if (login && !mqttUrl) {
    throw new SettingError(
      'SENSFLOW_MQTT_DYNSEC_USER',
      'applies to an external Mosquitto: set SENSFLOW_MQTT_URL too',
    );
  }
  return login;
}

/** Reads the settings from an environment (process.env by default). */
export function loadSettings(env: Env = process.env, cwd = process.cwd()): SensflowSettings {
  const mqttTls = tlsPair(env, 'SENSFLOW_MQTT_TLS_KEY', 'SENSFLOW_MQTT_TLS_CERT', cwd);
  const staticDir = read(env, 'SENSFLOW_HTTP_STATIC');
  const home = path.resolve(cwd, read(env, 'SENSFLOW_HOME') ?? '.sensflow');
  const spoolDir = read(env, 'SENSFLOW_HISTORY_SPOOL_DIR');
  const mqttUrl = url(env, 'SENSFLOW_MQTT_URL', ['mqtt', 'mqtts', 'ws', 'wss']);
  return {
    home,
    instanceId: identifier(env, 'SENSFLOW_INSTANCE_ID', 'sensflow-1'),
    site: identifier(env, 'SENSFLOW_SITE', DEFAULT_SITE),
    http: {
      host: read(env, 'SENSFLOW_HOST') ?? '0.0.0.0',
      port: port(env, 'SENSFLOW_PORT', 1880),
      tls: tlsPair(env, 'SENSFLOW_HTTPS_KEY', 'SENSFLOW_HTTPS_CERT', cwd),
      staticDir: staticDir ? path.resolve(cwd, staticDir) : undefined,
    },
    security: {
      adminUser: identifier(env, 'SENSFLOW_ADMIN_USER', 'admin'),
      adminPassword: read(env, 'SENSFLOW_ADMIN_PASSWORD'),
      credentialSecret: read(env, 'SENSFLOW_CREDENTIAL_SECRET'),
      dashboardAuth: loginPair(env, 'SENSFLOW_DASHBOARD_USER', 'SENSFLOW_DASHBOARD_PASSWORD'),
      metricsToken: read(env, 'SENSFLOW_METRICS_TOKEN'),
      apiToken: apiToken(env),
    },
    mqtt: {
      host: read(env, 'SENSFLOW_MQTT_HOST') ?? '0.0.0.0',
      port: port(env, 'SENSFLOW_MQTT_PORT', 1883),
      wsPath: wsPath(env),
      tls: mqttTls && { ...mqttTls, port: port(env, 'SENSFLOW_MQTT_TLS_PORT', 8883) },
    },
    eot: {
      port: port(env, 'SENSFLOW_EOT_PORT', 4004),
    },
    surveys: {
      host: listenHost(env, 'SENSFLOW_SURVEY_HOST', '0.0.0.0'),
      udpPort: port(env, 'SENSFLOW_SURVEY_UDP_PORT', DEFAULT_UDP_PORT),
      cloudPort: port(env, 'SENSFLOW_SURVEY_CLOUD_PORT', DEFAULT_CLOUD_PORT),
    },
    provisioning: {
      publicHost: publicHost(env),
      ratePerMinute: integer(env, 'SENSFLOW_PROVISION_RATE', 30, 1, 100_000),
    },
    external: {
      mqttUrl,
      mysqlUrl: databaseUrl(env, 'SENSFLOW_MYSQL_URL', ['mysql', 'mariadb']),
      influxUrl: databaseUrl(env, 'SENSFLOW_INFLUX_URL', ['http', 'https']),
      dynsec: dynsec(env, mqttUrl),
    },
    scaleOut: {
      leaseMs: integer(env, 'SENSFLOW_INSTANCE_LEASE', 5, 2, 600) * 1000,
    },
    history: {
      spoolDir: spoolDir ? path.resolve(cwd, spoolDir) : path.join(home, 'history-spool'),
      spoolMaxBytes: integer(env, 'SENSFLOW_HISTORY_SPOOL_MB', 512, 1, 1024 * 1024) * 1024 * 1024,
      retentionDays: integer(env, 'SENSFLOW_HISTORY_RETENTION_DAYS', 30, 0, 100 * 366),
    },
    demo: oneOf(env, 'SENSFLOW_DEMO', ['on', 'off'] as const, 'on') === 'on',
    logLevel: oneOf(env, 'SENSFLOW_LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownTimeoutSeconds: integer(env, 'SENSFLOW_SHUTDOWN_TIMEOUT', 5, 1, 600),
  };
}

// Settings from the environment: defaults that need no external server, every
// override, and one clear error naming the variable for a bad value.
import assert from 'node:assert/strict';
import { redactUrl, SettingError } from '../../../lib/config/parse';
import { loadSettings } from '../../../settings';

describe('settings', () => {
  it('defaults to the embedded services on the usual ports', () => {
    const s = loadSettings({}, '/srv/app');
    assert.equal(s.home, '/srv/app/.sensflow');
    assert.equal(s.http.port, 1880);
    assert.equal(s.mqtt.port, 1883);
    assert.equal(s.demo, true, 'the demo is on by default');
    assert.equal(s.mqtt.wsPath, '/mqtt');
    assert.equal(s.eot.port, 4004);
    assert.deepEqual(s.surveys, { host: '0.0.0.0', udpPort: 10005, cloudPort: 8001 });
    assert.equal(s.security.adminUser, 'admin');
    assert.equal(s.security.adminPassword, undefined);
    assert.equal(s.external.mysqlUrl, undefined);
    assert.equal(s.external.mqttUrl, undefined);
    assert.equal(s.external.influxUrl, undefined);
    assert.equal(s.site, 'UT3');
    assert.equal(s.shutdownTimeoutSeconds, 5);
    assert.equal(s.history.spoolDir, '/srv/app/.sensflow/history-spool');
    assert.equal(s.history.spoolMaxBytes, 512 * 1024 * 1024);
    assert.equal(s.history.retentionDays, 30);
  });

  it('takes the retention of the embedded history, 0 for ever, and names a bad one', () => {
    assert.equal(
      loadSettings({ SENSFLOW_HISTORY_RETENTION_DAYS: '365' }).history.retentionDays,
      365,
    );
    assert.equal(loadSettings({ SENSFLOW_HISTORY_RETENTION_DAYS: '0' }).history.retentionDays, 0);
    for (const bad of ['-1', '2.5', 'forever']) {
      assert.throws(
        () => loadSettings({ SENSFLOW_HISTORY_RETENTION_DAYS: bad }),
        /SENSFLOW_HISTORY_RETENTION_DAYS/,
      );
    }
  });

  it('takes the instance lease in seconds (5 by default) and names a bad one', () => {
    assert.equal(loadSettings({}).scaleOut.leaseMs, 5000);
    assert.equal(loadSettings({ SENSFLOW_INSTANCE_LEASE: '30' }).scaleOut.leaseMs, 30_000);
    for (const bad of ['1', '0', '601', 'soon']) {
      assert.throws(
        () => loadSettings({ SENSFLOW_INSTANCE_LEASE: bad }),
        /invalid setting SENSFLOW_INSTANCE_LEASE/,
      );
    }
  });

  it('takes the history spool folder and limit, and names a bad limit', () => {
    const s = loadSettings(
      { SENSFLOW_HISTORY_SPOOL_DIR: 'spool', SENSFLOW_HISTORY_SPOOL_MB: '64' },
      '/srv/app',
    );
    assert.equal(s.history.spoolDir, '/srv/app/spool');
    assert.equal(s.history.spoolMaxBytes, 64 * 1024 * 1024);
    assert.throws(
      () => loadSettings({ SENSFLOW_HISTORY_SPOOL_MB: '0' }),
      /SENSFLOW_HISTORY_SPOOL_MB/,
    );
  });

  it('takes every value from its SENSFLOW_* variable', () => {
    const s = loadSettings(
      {
        SENSFLOW_HOME: 'data',
        SENSFLOW_PORT: '8080',
        SENSFLOW_HOST: '127.0.0.1',
        SENSFLOW_MQTT_PORT: '2883',
        SENSFLOW_MQTT_WS_PATH: 'off',
        SENSFLOW_EOT_PORT: '5005',
        SENSFLOW_SURVEY_HOST: '127.0.0.1',
        SENSFLOW_SURVEY_UDP_PORT: '11005',
        SENSFLOW_SURVEY_CLOUD_PORT: '9001',
        SENSFLOW_ADMIN_USER: 'root',
        SENSFLOW_ADMIN_PASSWORD: 'long enough',
        SENSFLOW_CREDENTIAL_SECRET: 'abcdefghijklmnop',
        SENSFLOW_MQTT_URL: 'mqtt://u:p@broker:1883',
        SENSFLOW_MYSQL_URL: 'mysql://u:p@db:3306/sensflow',
        SENSFLOW_INFLUX_URL: 'http://influx:8086/sensflow',
        SENSFLOW_SITE: 'carcassonne',
        SENSFLOW_INSTANCE_ID: 'edge-2',
        SENSFLOW_LOG_LEVEL: 'debug',
        SENSFLOW_DEMO: 'off',
        SENSFLOW_METRICS_TOKEN: 't',
        SENSFLOW_DASHBOARD_USER: 'v',
        SENSFLOW_DASHBOARD_PASSWORD: 'w',
        SENSFLOW_MQTT_TLS_KEY: 'k.pem',
        SENSFLOW_MQTT_TLS_CERT: 'c.pem',
        SENSFLOW_MQTT_TLS_PORT: '8884',
      },
      '/srv/app',
    );
    assert.equal(s.home, '/srv/app/data');
    assert.equal(s.http.port, 8080);
    assert.equal(s.http.host, '127.0.0.1');
    assert.equal(s.mqtt.port, 2883);
    assert.equal(s.mqtt.wsPath, undefined);
    assert.deepEqual(s.mqtt.tls, {
      keyFile: '/srv/app/k.pem',
      certFile: '/srv/app/c.pem',
      port: 8884,
    });
    assert.equal(s.eot.port, 5005);
    assert.deepEqual(s.surveys, { host: '127.0.0.1', udpPort: 11005, cloudPort: 9001 });
    assert.equal(s.security.adminUser, 'root');
    assert.equal(s.external.mqttUrl?.hostname, 'broker');
    assert.equal(s.external.mysqlUrl?.pathname, '/sensflow');
    assert.equal(s.external.influxUrl?.port, '8086');
    assert.equal(s.site, 'carcassonne');
    assert.equal(s.instanceId, 'edge-2');
    assert.equal(s.logLevel, 'debug');
    assert.equal(s.demo, false);
    assert.deepEqual(s.security.dashboardAuth, { user: 'v', password: 'w' });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['SENSFLOW_PORT', '-1', /not a port/],
    ['SENSFLOW_DEMO', 'yes', /not one of on, off/],
    ['SENSFLOW_PORT', '65536', /not a port/],
    ['SENSFLOW_EOT_PORT', '40 04', /not a port/],
    ['SENSFLOW_SURVEY_UDP_PORT', 'udp', /not a port/],
    ['SENSFLOW_SURVEY_CLOUD_PORT', '80010', /not a port/],
    ['SENSFLOW_SURVEY_HOST', 'http://x', /not an interface address/],
    ['SENSFLOW_MYSQL_URL', 'mysql://db:3306', /must name the database/],
    ['SENSFLOW_MYSQL_URL', 'postgres://db/x', /scheme "postgres"/],
    ['SENSFLOW_MQTT_URL', 'http://broker', /scheme "http"/],
    ['SENSFLOW_INSTANCE_ID', 'has space', /1-64 of/],
    ['SENSFLOW_SHUTDOWN_TIMEOUT', '0', /from 1 to 600/],
    ['SENSFLOW_MQTT_WS_PATH', 'mqtt', /absolute URL path/],
    ['SENSFLOW_DASHBOARD_PASSWORD', 'x', /SENSFLOW_DASHBOARD_USER/],
    ['SENSFLOW_API_TOKEN', 'short', /at least 16/],
    ['SENSFLOW_PUBLIC_HOST', 'http://x', /not a host name/],
    ['SENSFLOW_PROVISION_RATE', '0', /from 1 to/],
    ['SENSFLOW_MQTT_DYNSEC_USER', 'admin', /SENSFLOW_MQTT_DYNSEC_PASSWORD/],
  ];

  it('reads the registry settings: API token, public host, provisioning rate, dynsec login', () => {
    const s = loadSettings({
      SENSFLOW_API_TOKEN: 'a-token-of-16-chars+',
      SENSFLOW_PUBLIC_HOST: 'iot.example.org',
      SENSFLOW_PROVISION_RATE: '10',
      SENSFLOW_MQTT_URL: 'mqtt://sensflow:pw@broker:1883',
      SENSFLOW_MQTT_DYNSEC_USER: 'admin',
      SENSFLOW_MQTT_DYNSEC_PASSWORD: 'dynsec pw',
    });
    assert.equal(s.security.apiToken, 'a-token-of-16-chars+');
    assert.equal(s.provisioning.publicHost, 'iot.example.org');
    assert.equal(s.provisioning.ratePerMinute, 10);
    assert.deepEqual(s.external.dynsec, { user: 'admin', password: 'dynsec pw' });
    assert.equal(loadSettings({}).provisioning.ratePerMinute, 30);
    assert.throws(
      () => loadSettings({ SENSFLOW_MQTT_DYNSEC_USER: 'a', SENSFLOW_MQTT_DYNSEC_PASSWORD: 'b' }),
      /SENSFLOW_MQTT_URL/,
    );
  });
  for (const [name, value, message] of bad) {
    it(`refuses ${name}=${value} naming the variable`, () => {
      assert.throws(
        () => loadSettings({ [name]: value }),
        (err: unknown) =>
          err instanceof SettingError &&
          message.test(err.message) &&
          err.message.includes('invalid setting SENSFLOW_'),
      );
    });
  }

  it('never shows a password from a URL in an error', () => {
    assert.throws(
      () => loadSettings({ SENSFLOW_MQTT_URL: 'http://user:s3cret@broker' }),
      (err: unknown) => err instanceof SettingError && !err.message.includes('s3cret'),
    );
    assert.equal(redactUrl('mysql://u:s3cret@db/x'), 'mysql://u:***@db/x');
  });
});

// Acceptance with a real Mosquitto (SENSFLOW_MQTT_URL) whose dynamic security
// Sensflow keeps in step with the registry: a device added from the CLI gets
// its login when /device/credentials hands the password out, may publish
// under its base topic only, its status sets last_seen, and disabling it from
// the CLI cuts it off, all without restarting Mosquitto.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { MqttClient } from 'mqtt';
import { closesWithin, connectMqtt, spy } from '../../support/mqtt-access';
import { delay } from '../../support/net';
import { Mosquitto, startMosquitto } from '../../support/services';
import {
  runSensflow,
  SensflowProcess,
  startSensflowProcess,
  testEnv,
} from '../../support/sensflow-process';

const dynsecAdmin = { user: 'admin', password: 'dynsec-admin-secret' };
const service = { username: 'sensflow', password: 'sensflow-service-secret' };

/** The README's setup: a service client with every right, made with mosquitto_ctrl. */
function addServiceClient(port: number) {
  const ctrl = (...args: string[]) =>
    execFileSync(
      'mosquitto_ctrl',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-u',
        dynsecAdmin.user,
        '-P',
        dynsecAdmin.password,
      ].concat(['dynsec', ...args]),
      { stdio: 'pipe' },
    );
  ctrl('createClient', service.username, '-p', service.password);
  ctrl('createRole', 'sensflow-service');
  ctrl('addRoleACL', 'sensflow-service', 'publishClientSend', '#', 'allow');
  ctrl('addRoleACL', 'sensflow-service', 'subscribePattern', '#', 'allow');
  ctrl('addClientRole', service.username, 'sensflow-service');
}

describe('sensflow devices: acceptance with Mosquitto dynamic security', function () {
  this.timeout(90_000);
  let mosquitto: Mosquitto;
  let env: Record<string, string>;
  let sf: SensflowProcess;
  const clients: MqttClient[] = [];

  const cli = async (...args: string[]) => {
    const result = await runSensflow(args, env);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  before(async () => {
    mosquitto = await startMosquitto({
      dynsec: { adminUser: dynsecAdmin.user, adminPassword: dynsecAdmin.password },
    });
    addServiceClient(mosquitto.port);
    env = {
      ...(await testEnv()),
      SENSFLOW_MQTT_URL: `mqtt://${service.username}:${service.password}@127.0.0.1:${mosquitto.port}`,
      SENSFLOW_MQTT_DYNSEC_USER: dynsecAdmin.user,
      SENSFLOW_MQTT_DYNSEC_PASSWORD: dynsecAdmin.password,
    };
    sf = await startSensflowProcess(env);
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await sf?.stop();
    await mosquitto?.process.stop();
  });

  it('provisions a device onto Mosquitto and keeps it to its base topic', async () => {
    await cli('customers', 'add', '--id', 'acme', '--name', 'ACME');
    await cli(
      ...['devices', 'add', '--id', 'esp-01', '--type', 'esp32', '--customer', 'acme'],
      ...['--location', 'abroad/carcassonne/b1/12', '--uid', '02:00:00:00:00:01'],
      ...['--uid-type', 'ethernet'],
    );
    const res = await fetch(new URL('device/credentials?mac=02:00:00:00:00:01', sf.url));
    assert.equal(res.status, 200);
    const { password } = (await res.json()) as { password: string };
    const auth = 'Basic ' + Buffer.from(`esp-01:${password}`).toString('base64');
    const config = (await (
      await fetch(new URL('device/config', sf.url), { headers: { authorization: auth } })
    ).json()) as { mqtt: { port: number; base_topic: string } };
    assert.deepEqual(
      [config.mqtt.port, config.mqtt.base_topic],
      [mosquitto.port, 'abroad/carcassonne/b1/12'],
    );

    await assert.rejects(
      connectMqtt(mosquitto.url, { username: 'esp-01', password: 'wrong' }),
      /Not authorized|Bad username/i,
    );
    const watcher = await spy(mosquitto.url, service);
    clients.push(watcher.client);
    const device = await connectMqtt(mosquitto.url, { username: 'esp-01', password });
    clients.push(device);
    await device.publishAsync('abroad/carcassonne/b1/12/co2', '{"value":600}', { qos: 1 });
    await device.publishAsync('abroad/carcassonne/b1/13/co2', 'intruder', { qos: 1 });
    await device.publishAsync('abroad/carcassonne/b1/12/device', '{"fw":"3"}', { qos: 1 });
    await watcher.waitFor('abroad/carcassonne/b1/12/co2 {"value":600}');
    await watcher.waitFor('abroad/carcassonne/b1/12/device {"fw":"3"}');
    assert.ok(!watcher.received.some((m) => m.includes('intruder')));

    let lastSeen: number | null = null;
    for (let i = 0; i < 40 && lastSeen === null; i++) {
      await delay(100);
      lastSeen = (JSON.parse(await cli('devices', 'show', 'esp-01')) as { lastSeen: number | null })
        .lastSeen;
    }
    assert.ok(lastSeen, 'the status set last_seen');

    await cli('devices', 'disable', 'esp-01');
    // Counted from the disable, not from the CLI's start (slow on a busy machine).
    assert.equal(await closesWithin(device, 5000), true, 'Mosquitto cut the disabled device off');
    await assert.rejects(
      connectMqtt(mosquitto.url, { username: 'esp-01', password }),
      /Not authorized|Bad username/i,
    );
  });
});

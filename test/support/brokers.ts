// Brokers for MQTT tests that stop and start them again on the same port:
// a real Mosquitto, and Sensflow's embedded broker (with the service login).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../../lib/broker/embedded-broker';
import { serviceLogin, servicePolicy } from '../../lib/broker/service-policy';
import { silentLogger } from '../../lib/util/log';
import { freePort } from './net';
import { startMosquitto } from './services';

/** A broker the tests can stop and start again on the same port. */
export interface TestBroker {
  url: string;
  port: number;
  login?: { username: string; password: string };
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function mosquittoBroker(): Promise<TestBroker> {
  const m = await startMosquitto();
  return {
    url: m.url,
    port: m.port,
    stop: () => m.process.stop(),
    start: () => m.process.start(),
    close: () => m.process.stop(),
  };
}

export async function embeddedBroker(): Promise<TestBroker> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-cmd-broker-'));
  const port = await freePort();
  const login = serviceLogin('commands-test');
  let broker: EmbeddedBroker | undefined;
  const start = async () => {
    broker = await EmbeddedBroker.start({
      dataDir,
      host: '127.0.0.1',
      port,
      policy: servicePolicy(login),
      logger: silentLogger,
    });
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    login,
    start,
    stop: async () => {
      await broker?.close();
      broker = undefined;
    },
    close: async () => {
      await broker?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const TEST_BROKERS = [
  ['Mosquitto', mosquittoBroker],
  ['the embedded broker', embeddedBroker],
] as const;

/** An embedded broker on a free port with a service login, and a client
 *  logged in with it; close() ends both and removes the broker's folder. */
export async function embeddedWithClient(login: { username: string; password: string }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-broker-'));
  const broker = await EmbeddedBroker.start({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    policy: servicePolicy(login),
    logger: silentLogger,
  });
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.tcp}`, {
    ...login,
    reconnectPeriod: 0,
  });
  return {
    broker,
    client,
    async close() {
      await client.endAsync(true);
      await broker.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

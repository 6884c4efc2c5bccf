// An EOT server on a loopback port for tests: an in-memory directory with two
// customers' devices, a real SQLite store in a temp dir, and a fake clock for
// every timeout, so tests decide when time passes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceCredentials, EotClient } from '../../lib/eot/client';
import type { LoginMode } from '../../lib/eot/auth';
import type { EotServerOptions } from '../../lib/eot/options';
import { EotServer } from '../../lib/eot/server';
import { openStore, Store } from '../../lib/store/store';
import { FakeClock } from './fake-clock';
import { MemoryDevice, MemoryDirectory } from './memory-directory';

export const DEVICES: MemoryDevice[] = [
  { id: 'mkr-01', type: 'mkr1000', customerId: 'acme', serial: 'serial-mkr-01' },
  { id: 'lamp-07', type: 'esp32', customerId: 'acme', serial: 'serial-lamp-07' },
  { id: 'app-3', type: 'app', customerId: 'acme', serial: 'serial-app-3' },
  { id: 'gx-1', type: 'mkr1000', customerId: 'globex', serial: 'serial-gx-1' },
];

export function credentials(id: string, mode: LoginMode = 'AUTH2'): DeviceCredentials {
  const d = DEVICES.find((x) => x.id === id)!;
  return { id, type: d.type!, serial: d.serial!, mode };
}

export interface EotFixture {
  server: EotServer;
  store: Store;
  directory: MemoryDirectory;
  clock: FakeClock;
  port: number;
  file: string;
  /** A connection that got HELLO. */
  open(localAddress?: string): Promise<EotClient>;
  /** A logged-in device. */
  device(id: string, mode?: LoginMode): Promise<EotClient>;
  /** Stops the server and closes the store (its file stays, for a restart). */
  close(): Promise<void>;
}

export async function startEot(
  options: Partial<EotServerOptions> = {},
  reuse?: { file: string; directory?: MemoryDirectory; clock?: FakeClock },
): Promise<EotFixture> {
  const file =
    reuse?.file ??
    path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-eot-')), 'sensflow.db');
  const store = await openStore({ kind: 'sqlite', file });
  const clock = reuse?.clock ?? new FakeClock(Date.now());
  const directory = reuse?.directory ?? new MemoryDirectory(DEVICES, () => clock.now());
  const server = new EotServer(
    { port: 0, host: '127.0.0.1', throttle: { maxFailures: 1000 }, ...options },
    { directory, db: store.db, clock },
  );
  const { port } = await server.start();
  const clients: EotClient[] = [];
  const open = async (localAddress?: string) => {
    const client = await EotClient.connect({
      port: port!,
      localAddress,
      separator:
        typeof options.separator === 'string' ? options.separator.charCodeAt(0) : undefined,
    });
    clients.push(client);
    return client;
  };
  return {
    server,
    store,
    directory,
    clock,
    port: port!,
    file,
    open,
    async device(id, mode = 'AUTH2') {
      const client = await open();
      if (!(await client.login(credentials(id, mode)))) throw new Error(`${id} could not log in`);
      return client;
    },
    async close() {
      for (const c of clients) c.close();
      await server.stop();
      await store.close();
    },
  };
}

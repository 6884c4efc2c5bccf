// The registry as the CLI reaches it: the same store as the server (the
// embedded file in the home, or MySQL from SENSFLOW_MYSQL_URL) and the same
// credential secret, so a change made here is seen by a running server at
// once through the change feed.
import { Registry } from '../../lib/registry/registry';
import { credentialSecretFor } from '../../lib/security/credential-secret';
import { openStore } from '../../lib/store/store';
import { loadSettings, SensflowSettings } from '../../settings';
import { storeSpecOf } from '../launcher/home';

export interface CliRegistry {
  registry: Registry;
  settings: SensflowSettings;
  credentialSecret: string;
}

export async function withRegistry<T>(work: (cli: CliRegistry) => Promise<T>): Promise<T> {
  const settings = loadSettings();
  const credentialSecret = credentialSecretFor(settings.home, {
    SENSFLOW_CREDENTIAL_SECRET: settings.security.credentialSecret,
  });
  const store = await openStore(storeSpecOf(settings));
  const registry = new Registry(store.db, { credentialSecret });
  try {
    return await work({ registry, settings, credentialSecret });
  } finally {
    await registry.close();
    await store.close();
  }
}

/** Prints rows as aligned columns under a header. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

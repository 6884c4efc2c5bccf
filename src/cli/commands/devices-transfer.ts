// `sensflow devices export|import`: the whole registry as JSON lines (see
// lib/registry/transfer.ts), to move it between the embedded store and MySQL.
// Serial numbers are sealed with a passphrase, read from a file
// (--passphrase-file) or SENSFLOW_EXPORT_PASSPHRASE, never from the command line.
import fs from 'node:fs';
import readline from 'node:readline';
import { writeOwnerOnly } from '../../../lib/security/credential-secret';
import { exportRegistry, importRegistry } from '../../../lib/registry/transfer';
import { withRegistry } from '../registry-store';
import { parse, UsageError } from '../usage';

function passphrase(file: string | undefined): string {
  if (file) return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  const fromEnv = process.env.SENSFLOW_EXPORT_PASSPHRASE;
  if (fromEnv) return fromEnv;
  throw new UsageError(
    'a passphrase seals the serial numbers: give --passphrase-file FILE or set SENSFLOW_EXPORT_PASSPHRASE',
  );
}

export async function exportCommand(rest: string[]): Promise<void> {
  const { values } = parse(rest, {
    out: { type: 'string' },
    'passphrase-file': { type: 'string' },
  });
  const secret = passphrase(values['passphrase-file']);
  const lines: string[] = [];
  await withRegistry(async ({ registry, credentialSecret }) => {
    for await (const line of exportRegistry(registry, credentialSecret, secret)) lines.push(line);
  });
  const text = lines.join('\n') + '\n';
  if (values.out) {
    writeOwnerOnly(values.out, text.trimEnd());
    console.error(`Exported ${lines.length - 1} records to ${values.out}.`);
  } else {
    process.stdout.write(text);
  }
}

export async function importCommand(rest: string[]): Promise<void> {
  const { values } = parse(rest, {
    in: { type: 'string' },
    'passphrase-file': { type: 'string' },
  });
  const secret = passphrase(values['passphrase-file']);
  const lines: string[] = [];
  const input = values.in ? fs.createReadStream(values.in) : process.stdin;
  for await (const line of readline.createInterface({ input, crlfDelay: Infinity }))
    lines.push(line);
  const summary = await withRegistry(({ registry, credentialSecret }) =>
    importRegistry(registry, credentialSecret, lines, secret),
  );
  console.log(
    `Imported ${summary.customers} customers, ${summary.deviceTypes} device types, ` +
      `${summary.devices} devices, ${summary.users} users.`,
  );
  if (summary.credentialsReset > 0) {
    console.log(
      `${summary.credentialsReset} devices had MQTT passwords made under another credential secret: ` +
        'their credentials were reset, they fetch new ones from /device/credentials.',
    );
  }
}

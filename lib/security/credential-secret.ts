// The credential secret of an installation: from SENSFLOW_CREDENTIAL_SECRET,
// or generated once into a file of the user directory that only its owner can
// read. The launcher and Sensflow's nodes inside a stock Node-RED find the
// same secret the same way.
import fs from 'node:fs';
import path from 'node:path';
import { randomSecret } from './secrets';

export const SECRET_FILE = '.credential-secret';

export function credentialSecretFor(userDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.SENSFLOW_CREDENTIAL_SECRET?.trim();
  if (configured) return configured;
  const file = path.join(userDir, SECRET_FILE);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(userDir, { recursive: true, mode: 0o700 });
    writeOwnerOnly(file, randomSecret(32));
  }
  // Tighten a file loosened by hand (a copy, an unpacked backup).
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  const secret = fs.readFileSync(file, 'utf8').trim();
  if (secret.length < 16)
    throw new Error(`${file} is shorter than 16 characters: remove it or fix it`);
  return secret;
}

export function writeOwnerOnly(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

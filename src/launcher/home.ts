// The user directory and the secrets kept in it: the credential secret and the
// admin password hash. A password is generated only when none is configured,
// and only its bcrypt hash is ever written.
import fs from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { SettingError } from '../../lib/config/parse';
import { credentialSecretFor, writeOwnerOnly } from '../../lib/security/credential-secret';
import { randomSecret } from '../../lib/security/secrets';
import type { StoreSpec } from '../../lib/store/store';
import type { SensflowSettings } from '../../settings';

export interface AdminLogin {
  user: string;
  passwordHash: string;
  /** Set only when this start generated the password: show it once. */
  generatedPassword?: string;
}

export interface HomeSecrets {
  credentialSecret: string;
  admin: AdminLogin;
}

const ADMIN_FILE = 'admin-password.json';
const BCRYPT_COST = 10;
const BCRYPT_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** The store of an installation: MySQL when configured, else the embedded file. */
export function storeSpecOf(settings: SensflowSettings): StoreSpec {
  return settings.external.mysqlUrl
    ? { kind: 'mysql', url: settings.external.mysqlUrl.toString() }
    : { kind: 'sqlite', file: path.join(settings.home, 'sensflow.db') };
}

export async function prepareHome(settings: SensflowSettings): Promise<HomeSecrets> {
  fs.mkdirSync(settings.home, { recursive: true, mode: 0o700 });
  return {
    credentialSecret: credentialSecretFor(settings.home, {
      SENSFLOW_CREDENTIAL_SECRET: settings.security.credentialSecret,
    }),
    admin: await adminLogin(settings),
  };
}

/** Generates a new admin password, keeps its hash, and returns it (CLI). */
export async function resetAdminPassword(settings: SensflowSettings): Promise<string> {
  fs.mkdirSync(settings.home, { recursive: true, mode: 0o700 });
  const password = randomSecret(18);
  writeOwnerOnly(
    path.join(settings.home, ADMIN_FILE),
    JSON.stringify({ passwordHash: await bcrypt.hash(password, BCRYPT_COST) }),
  );
  return password;
}

async function adminLogin(settings: SensflowSettings): Promise<AdminLogin> {
  const user = settings.security.adminUser;
  const configured = settings.security.adminPassword;
  if (configured) {
    if (BCRYPT_HASH.test(configured)) return { user, passwordHash: configured };
    if (configured.length < 8) {
      throw new SettingError(
        'SENSFLOW_ADMIN_PASSWORD',
        'must be at least 8 characters (or a bcrypt hash)',
      );
    }
    return { user, passwordHash: await bcrypt.hash(configured, BCRYPT_COST) };
  }
  const file = path.join(settings.home, ADMIN_FILE);
  if (fs.existsSync(file)) {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { passwordHash?: string };
    if (!stored.passwordHash || !BCRYPT_HASH.test(stored.passwordHash)) {
      throw new Error(`${file} holds no bcrypt hash: remove it to generate a new admin password`);
    }
    return { user, passwordHash: stored.passwordHash };
  }
  const generatedPassword = await resetAdminPassword(settings);
  const { passwordHash } = JSON.parse(fs.readFileSync(file, 'utf8')) as { passwordHash: string };
  return { user, passwordHash, generatedPassword };
}

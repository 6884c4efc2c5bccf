// The broker's own login: the service account that Sensflow's flows and
// services use, allowed everything. Device logins come from the registry.
import { deriveKey, secretsEqual } from '../security/secrets';
import { BrokerPolicy, Principal } from './embedded-broker';

export const SERVICE_USER = 'sensflow';

export interface ServiceLogin {
  username: string;
  password: string;
}

/** The service login of an installation, derived from its credential secret
 *  (so nothing more needs storing, and it changes with the secret). */
export function serviceLogin(credentialSecret: string): ServiceLogin {
  return {
    username: SERVICE_USER,
    password: deriveKey(credentialSecret, 'mqtt-service').toString('base64url'),
  };
}

/** A policy that accepts the service login only, with full rights. */
export function servicePolicy(login: ServiceLogin): BrokerPolicy {
  return {
    async authenticate(username, password): Promise<Principal | null> {
      if (username !== login.username || !password) return null;
      return secretsEqual(password, login.password) ? { username, service: true } : null;
    },
    canPublish: (principal) => principal.service === true,
    canSubscribe: (principal) => principal.service === true,
  };
}

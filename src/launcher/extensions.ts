// What a part of Sensflow adds to the server at start, beside Node-RED: HTTP
// APIs, the broker's access rules, background services. Each part has its
// own file and one line in `extensions`; the launcher starts them in order
// after the store, broker and express app exist and before Node-RED, so their
// routes come before the editor's, and stops them in reverse order.
import type http from 'node:http';
import type { Express, RequestHandler } from 'express';
import type { EmbeddedBroker } from '../../lib/broker/embedded-broker';
import type { ServiceLogin } from '../../lib/broker/service-policy';
import type { HealthMonitor } from '../../lib/ops/health';
import type { Store } from '../../lib/store/store';
import type { Logger } from '../../lib/util/log';
import type { SensflowSettings } from '../../settings';
import type { HomeSecrets } from './home';
import { clusterExtension } from './cluster-extension';
import { registryExtension } from './registry-extension';
import { historyExtension } from './history';
import { alarmsApi } from './alarms-api';
import { demoExtension } from './demo';

export interface LauncherContext {
  settings: SensflowSettings;
  secrets: HomeSecrets;
  store: Store;
  /** The express app; routes added here come before Node-RED's. */
  app: Express;
  server: http.Server;
  health: HealthMonitor;
  logger: Logger;
  /** The embedded broker, when no external one is configured. */
  broker?: EmbeddedBroker;
  /** The login Sensflow's own services use on the broker (embedded or external). */
  brokerLogin?: ServiceLogin;
  /** Middleware that lets through only requests bearing an admin API token
   *  (a Node-RED admin login, `POST /auth/token`); 401 otherwise. */
  requireAdmin: RequestHandler;
}

export interface Started {
  stop(): Promise<void>;
}

export interface Extension {
  name: string;
  start(ctx: LauncherContext): Promise<Started | void>;
}

// The cluster comes first: a duplicate instance id stops the start before anything serves.
export const extensions: Extension[] = [
  clusterExtension,
  alarmsApi,
  registryExtension,
  historyExtension,
  demoExtension,
];

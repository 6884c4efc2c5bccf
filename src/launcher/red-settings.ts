// Node-RED's settings, derived from Sensflow's. Embedding ignores uiPort,
// httpNodeAuth, httpStatic and https: the launcher implements those itself
// (see http.ts), so they are not set here.
import type { Socket } from 'socket.io';
import { dashboardSessions, OPEN_DASHBOARD } from '../../lib/dashboard/sessions';
import { packageRoot } from '../../lib/util/package-root';
import type { SensflowSettings } from '../../settings';
import type { HomeSecrets } from './home';
import { admitted, LoginGate } from './login-check';

export const FLOW_FILE = 'flows.json';

export function nodeRedSettings(
  settings: SensflowSettings,
  secrets: HomeSecrets,
  dashboardLogin: LoginGate | undefined,
): Record<string, unknown> {
  return {
    // Paths: the home is Node-RED's user dir; our package is a node module
    // found through nodesDir (its package.json lists the nodes).
    userDir: settings.home,
    flowFile: FLOW_FILE,
    flowFilePretty: true,
    nodesDir: [packageRoot()],
    credentialSecret: secrets.credentialSecret,

    // The editor at /, the dashboard and flow endpoints at / too (/dashboard).
    httpAdminRoot: '/',
    httpNodeRoot: '/',

    // The editor and admin API always require a login.
    adminAuth: {
      type: 'credentials',
      users: [
        { username: secrets.admin.user, password: secrets.admin.passwordHash, permissions: '*' },
      ],
      sessionExpiryTime: 7 * 24 * 3600,
    },

    // Dashboard 2.0's pages are behind the launcher's login on httpNode; its
    // socket.io is attached to the server directly and checks here.
    dashboard: dashboardLogin ? { ioMiddleware: dashboardSocketCheck(dashboardLogin) } : {},

    logging: { console: { level: settings.logLevel, metrics: false, audit: false } },
    // A store flows can choose (`file`) that is written to the home and
    // flushed on shutdown; memory stays the default, as in Node-RED.
    contextStorage: {
      default: { module: 'memory' },
      memory: { module: 'memory' },
      file: { module: 'localfilesystem' },
    },
    // This server may have no Internet: never phone home.
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: true, ui: true },
    runtimeState: { enabled: false, ui: false },
    editorTheme: {
      page: { title: 'Sensflow' },
      header: { title: 'Sensflow' },
      projects: { enabled: false },
      tours: false,
    },
    functionExternalModules: false,
  };
}

function dashboardSocketCheck(gate: LoginGate) {
  return (socket: Socket, next: (err?: Error) => void) => {
    // Keep Dashboard 2.0's own checks, which a custom ioMiddleware replaces:
    // no cross-origin sockets, no WebSocket without the polling handshake.
    if (socket.handshake.xdomain) return next(new Error('cross-origin connection refused'));
    if ((socket.request.url ?? '').includes('transport=websocket')) {
      return next(new Error('direct websocket connection refused'));
    }
    // The browser sends the dashboard's Basic login with socket.io's requests.
    // The connection is bound to its user, whose customer decides what it
    // receives and may act on (lib/dashboard, the dashboard-access plugin).
    admitted(socket.request, gate).then(
      (who) => {
        if (who === null) return next(new Error('login required'));
        dashboardSessions.bind(socket.id, who === 'open' ? OPEN_DASHBOARD : who);
        socket.on('disconnect', () => dashboardSessions.release(socket.id));
        next();
      },
      (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
    );
  };
}

// The `sensflow` command line: one file per command under commands/, each a
// function of its arguments. Errors a user can fix print one line, not a stack.
import { SettingError } from '../../lib/config/parse';
import { StoreUnavailableError } from '../../lib/store/store';
import { errorMessage } from '../../lib/util/log';
import { packageVersion } from '../../lib/util/package-root';
import { adminCommand } from './commands/admin';
import { customersCommand } from './commands/customers';
import { demoCommand } from './commands/demo';
import { devicesCommand } from './commands/devices';
import { usersCommand } from './commands/users';
import { UsageError } from './usage';

export interface Command {
  summary: string;
  run(args: string[]): Promise<number | void>;
}

export const commands: Record<string, Command> = {
  start: {
    summary: 'run the Sensflow server (editor, dashboard, broker, APIs)',
    // Loaded on use: it brings Node-RED, which the registry commands do not need.
    run: async (args) => (await import('./commands/start')).startCommand(args),
  },
  admin: { summary: 'admin login: `admin reset-password`', run: adminCommand },
  simulate: {
    summary: 'simulated devices: `simulate mqtt|eot|udp …` (see README)',
    run: async (args) => (await import('./commands/simulate')).simulateCommand(args),
  },
  devices: {
    summary:
      'device registry: add, list, show, update, disable, enable, remove, reset-credentials, import, export, provision',
    run: devicesCommand,
  },
  flows: {
    summary: 'flow files: `flows validate FILE`, `flows deploy FILE --url URL` (see README)',
    run: async (args) => (await import('./commands/flows')).flowsCommand(args),
  },
  customers: { summary: 'customers: add, list, remove', run: customersCommand },
  users: { summary: 'dashboard users: add, list, passwd, remove', run: usersCommand },
  demo: {
    summary: 'the demo customers and simulated devices: add, remove',
    run: demoCommand,
  },
  version: {
    summary: 'print the version',
    run: async () => {
      console.log(packageVersion());
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`,
  );
  return [
    'Usage: sensflow <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Settings come from SENSFLOW_* environment variables (see README).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(help());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    console.error(`sensflow: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
    return (await command.run(args)) ?? 0;
  } catch (err) {
    if (
      err instanceof SettingError ||
      err instanceof StoreUnavailableError ||
      err instanceof UsageError
    ) {
      console.error(`sensflow: ${err.message}`);
      return 2;
    }
    console.error(`sensflow: ${errorMessage(err)}`);
    if (process.env.SENSFLOW_LOG_LEVEL === 'debug' && err instanceof Error)
      console.error(err.stack);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`sensflow: ${errorMessage(err)}`);
      process.exitCode = 1;
    },
  );
}

// `sensflow start`: runs the server until SIGINT or SIGTERM, then stops it
// cleanly (flows stopped, stores flushed, sockets closed) within the shutdown
// timeout, or exits anyway.
import { consoleLogger } from '../../../lib/util/log';
import { loadSettings } from '../../../settings';
import { startSensflow } from '../../launcher/launcher';
import { parse } from '../usage';

export async function startCommand(args: string[]): Promise<number | void> {
  parse(args, {});
  const settings = loadSettings();
  const logger = consoleLogger(settings.logLevel);
  const running = await startSensflow(settings, logger);

  const lines = [
    '',
    `Sensflow is running.`,
    `  Editor:    ${running.url}  (user "${running.adminUser}")`,
    `  Dashboard: ${running.url}dashboard`,
  ];
  if (running.ports.mqtt !== undefined)
    lines.push(`  MQTT:      port ${running.ports.mqtt} (embedded broker)`);
  if (running.generatedPassword) {
    lines.push(
      '',
      `  Admin password (generated, shown only this once; only its hash is kept):`,
      `    ${running.generatedPassword}`,
      `  Set SENSFLOW_ADMIN_PASSWORD or run "sensflow admin reset-password" to change it.`,
    );
  }
  console.log(lines.join('\n') + '\n');

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      logger.info(`${signal}: stopping`);
      const timer = setTimeout(() => {
        logger.error(
          `shutdown took longer than ${settings.shutdownTimeoutSeconds} s: exiting anyway`,
        );
        process.exit(1);
      }, settings.shutdownTimeoutSeconds * 1000);
      timer.unref();
      running.stop().then(
        () => {
          logger.info('stopped');
          resolve();
        },
        (err: unknown) => {
          logger.error(`shutdown: ${String(err)}`);
          resolve();
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  // Node-RED leaves timers behind; the server is stopped, so end the process.
  process.exit(0);
}

// The logger the domain is given. Node glue passes Node-RED's log; the
// launcher and CLI use the console logger, which prints in Node-RED's format so
// one server's output reads as one log.

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type Level = (typeof LEVELS)[number];

function stamp(date: Date): string {
  const month = date.toLocaleString('en-GB', { month: 'short' });
  const time = date.toTimeString().slice(0, 8);
  return `${date.getDate()} ${month} ${time}`;
}

export function consoleLogger(level: Level = 'info', prefix = ''): Logger {
  const limit = LEVELS.indexOf(level);
  const write = (at: Level, message: string) => {
    if (LEVELS.indexOf(at) > limit) return;
    const line = `${stamp(new Date())} - [${at}] ${prefix}${message}`;
    if (at === 'error' || at === 'warn') console.error(line);
    else console.log(line);
  };
  return {
    error: (m) => write('error', m),
    warn: (m) => write('warn', m),
    info: (m) => write('info', m),
    debug: (m) => write('debug', m),
  };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

/** A message for any thrown value, without a stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    // AggregateError (e.g. a refused dual-stack connect) hides the useful part.
    if (err.message === '' && err instanceof AggregateError && err.errors.length > 0) {
      return errorMessage(err.errors[0]);
    }
    return err.message || String((err as { code?: string }).code ?? err.name);
  }
  return String(err);
}

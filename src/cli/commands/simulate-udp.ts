// `sensflow simulate udp`: smart meters (seed 001) that each send a day of
// surveys, one line per reading, in one UDP datagram to the survey gateway,
// wait for "Surveys arrived" and send again when no answer comes.
import {
  datagramOf,
  dayOfSurveys,
  inBatches,
  meterIps,
  sendSurveys,
  SendResult,
} from '../../../lib/surveys/meters';
import { loadSettings } from '../../../settings';
import { parse, UsageError } from '../usage';

const USAGE = `usage: sensflow simulate udp [--meters 4] [--readings 24] [--host 127.0.0.1] [--port P]
                              [--first-ip 192.168.1.2] [--seed N] [--days 1] [--every S]
                              [--timeout 2] [--attempts 5] [--quiet]
  --meters    how many meters send (each its own address, from --first-ip on)
  --readings  readings per meter and day, evenly spaced from 00:00
  --port      the gateway's UDP port (default SENSFLOW_SURVEY_UDP_PORT, 10005)
  --days      how many days each meter sends (one datagram a day), --every S seconds apart
  --timeout   seconds to wait for "Surveys arrived" before sending again, --attempts times at most
Exit status 0 when every datagram was answered "Surveys arrived".`;

export async function simulateUdp(args: string[]): Promise<number> {
  const { values } = parse(args, {
    meters: { type: 'string', default: '4' },
    readings: { type: 'string', default: '24' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'first-ip': { type: 'string', default: '192.168.1.2' },
    seed: { type: 'string', default: '1' },
    days: { type: 'string', default: '1' },
    every: { type: 'string', default: '0' },
    timeout: { type: 'string', default: '2' },
    attempts: { type: 'string', default: '5' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const meters = whole(values.meters, 'meters', 1, 100_000);
  const readings = whole(values.readings, 'readings', 1, 1440);
  const seed = whole(values.seed, 'seed', 0, 2 ** 31);
  const days = whole(values.days, 'days', 1, 1_000_000);
  const everyMs = seconds(values.every, 'every');
  const timeoutMs = seconds(values.timeout, 'timeout');
  if (timeoutMs < 10) throw new UsageError('--timeout: wait at least 0.01 s for an answer');
  const attempts = whole(values.attempts, 'attempts', 1, 100);
  const port =
    values.port === undefined
      ? loadSettings().surveys.udpPort
      : whole(values.port, 'port', 1, 65535);
  let ips: string[];
  try {
    ips = meterIps(values['first-ip'], meters);
  } catch (err) {
    throw new UsageError(`--first-ip: ${(err as Error).message}`);
  }

  const target = { host: values.host, port, timeoutMs, attempts };
  console.log(`${meters} meters, ${readings} readings a day each, to udp ${values.host}:${port}`);
  let failed = 0;
  for (let day = 0; day < days; day++) {
    if (day > 0 && everyMs > 0) await new Promise((resolve) => setTimeout(resolve, everyMs));
    const results = await inBatches(
      ips.map((ip) => async () => {
        const text = datagramOf(dayOfSurveys(ip, { readings, seed: seed + day }));
        const result = await sendSurveys(text, target);
        if (!values.quiet || result.outcome !== 'arrived')
          console.log(describe(ip, readings, result));
        return result;
      }),
      64,
    );
    const count = (outcome: string) => results.filter((r) => r.outcome === outcome).length;
    const arrived = count('arrived');
    failed += meters - arrived;
    console.log(
      `day ${day + 1}: ${arrived} of ${meters} arrived, ${count('refused')} refused, ${count('unanswered')} unanswered`,
    );
  }
  return failed === 0 ? 0 : 1;
}

function describe(ip: string, readings: number, result: SendResult): string {
  const tries = result.attempts > 1 ? `, ${result.attempts} sends` : '';
  if (result.outcome === 'unanswered') return `${ip}: ${readings} surveys, no answer${tries}`;
  return `${ip}: ${readings} surveys, "${result.reply}" in ${result.ms} ms${tries}`;
}

function whole(raw: string, name: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name}: "${raw}" is not a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

function seconds(raw: string, name: string): number {
  if (!/^\d+(\.\d+)?$/.test(raw))
    throw new UsageError(`--${name}: "${raw}" is not a number of seconds`);
  return Math.round(Number(raw) * 1000);
}

// Simulated soil meters of the smart-meter scenario. Each meter has an ip,
// takes a day of readings (temperature and humidity at regular times), and
// sends them to the gateway in one UDP datagram, one line per reading, as the
// seed's devices do; it sends again when no answer comes in time.
import dgram from 'node:dgram';
import net from 'node:net';
import { Clock, systemClock } from '../util/clock';
import { ARRIVED, REFUSED } from './gateway';
import { formatSurveyLine, Survey } from './survey-line';

export interface DayOptions {
  /** Readings in the day, evenly spaced from 00:00. */
  readings: number;
  /** Varies the values; the same seed gives the same day. */
  seed: number;
}

export type Outcome = 'arrived' | 'refused' | 'unanswered';

export interface SendResult {
  outcome: Outcome;
  /** The gateway's answer, when one came. */
  reply?: string;
  attempts: number;
  /** From the first send to the answer (or the last timeout). */
  ms: number;
}

export interface SendOptions {
  host: string;
  port: number;
  /** How long to wait for an answer before sending again. */
  timeoutMs: number;
  /** Sends at most. */
  attempts: number;
  clock?: Clock;
}

/** `count` consecutive IPv4 addresses from `first`. */
export function meterIps(first: string, count: number): string[] {
  if (!net.isIPv4(first)) throw new Error(`"${first}" is not an IPv4 address`);
  const start = first.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  if (start + count - 1 > 0xffffffff)
    throw new Error(`${count} addresses from ${first} run past 255.255.255.255`);
  return Array.from({ length: count }, (_, i) => {
    const n = start + i;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  });
}

/** A day of readings of the meter at `ip`: soil warmer in the afternoon, drier at noon. */
export function dayOfSurveys(ip: string, options: DayOptions): Survey[] {
  if (!Number.isInteger(options.readings) || options.readings < 1 || options.readings > 1440) {
    throw new Error('a meter takes 1 to 1440 readings a day');
  }
  const random = mulberry32(hashOf(`${ip}/${options.seed}`));
  const offset = random() * 4 - 2;
  return Array.from({ length: options.readings }, (_, i) => {
    const minute = Math.floor((i * 1440) / options.readings);
    const phase = ((minute / 1440) * 2 - 0.5) * Math.PI; // lowest at 06:00, highest at 18:00
    const temperature = round1(19 + offset + 5 * Math.sin(phase) + (random() - 0.5));
    const humidity = Math.round(
      Math.min(100, Math.max(0, 35 - 8 * Math.sin(phase) + (random() - 0.5) * 4)),
    );
    const time = `${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`;
    return { ip, time, temperature, humidity };
  });
}

/** The datagram of a meter: one line per reading, each with the meter's ip. */
export function datagramOf(surveys: readonly Survey[]): string {
  return surveys.map((s) => `${formatSurveyLine(s)}\n`).join('');
}

/** Sends a datagram from a socket of its own and waits for the gateway's answer. */
export function sendSurveys(text: string, options: SendOptions): Promise<SendResult> {
  const clock = options.clock ?? systemClock;
  const socket = dgram.createSocket(net.isIPv6(options.host) ? 'udp6' : 'udp4');
  const started = clock.now();
  let attempts = 0;
  return new Promise<SendResult>((resolve) => {
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const finish = (outcome: Outcome, reply?: string) => {
      clock.clearTimeout(timer);
      socket.close();
      resolve({ outcome, reply, attempts, ms: clock.now() - started });
    };
    const send = () => {
      if (attempts >= options.attempts) return finish('unanswered');
      attempts += 1;
      // A refused send (nothing listening yet) is like a lost datagram: wait and send again.
      socket.send(text, options.port, options.host, () => undefined);
      timer = clock.setTimeout(send, options.timeoutMs);
    };
    socket.on('message', (data) => {
      const reply = data.toString('utf8');
      if (reply === ARRIVED) finish('arrived', reply);
      else if (reply.startsWith(REFUSED)) finish('refused', reply);
    });
    // ICMP "port unreachable" may surface as a socket error: the next attempt follows.
    socket.on('error', () => undefined);
    send();
  });
}

/** Runs `jobs` with at most `limit` at once, keeping their order in the results. */
export async function inBatches<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function round1(n: number): number {
  const rounded = Math.round(n * 10) / 10;
  return rounded === 0 ? 0 : rounded;
}

function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A small seeded generator: the same seed gives the same day. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

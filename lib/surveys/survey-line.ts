// The survey line of the smart-meter scenario: one reading of a soil meter,
// as meters send it to the gateway and the gateway forwards it to the cloud,
//   [<ip> ]HH:MM - <temperature> - <humidity>%      e.g. 192.168.1.2 08:00 - 20 - 30%
// and as the cloud prints it: `192.168.1.2 – 08:00 – 20 – 30%`. Parsing is
// strict (every field checked, one clear reason per bad line); blank lines,
// which the original meters leave between readings, are skipped.
import net from 'node:net';

export interface Survey {
  /** The meter's IP address. */
  ip: string;
  /** Time of day of the reading, HH:MM (the meter's wall clock). */
  time: string;
  /** Degrees Celsius. */
  temperature: number;
  /** Relative humidity, percent. */
  humidity: number;
}

/** A survey with the number (from 1) of the line it came from. */
export interface NumberedSurvey extends Survey {
  line: number;
}

export interface LineProblem {
  /** Line number, from 1, blank lines counted. */
  line: number;
  /** The line as received (shortened when long). */
  text: string;
  reason: string;
}

export interface ParsedLines {
  surveys: NumberedSurvey[];
  errors: LineProblem[];
}

export class SurveyLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SurveyLineError';
  }
}

export const MAX_LINE_LENGTH = 200;
export const TEMPERATURE_RANGE = { min: -60, max: 100 } as const;
/** How far after the arrival a reading's time may be and still count as that
 *  day's: meters' clocks drift. */
export const CLOCK_SKEW_MS = 10 * 60_000;

const SEPARATOR = /\s+-\s+/;
const TIME = /^(\d{2}):(\d{2})$/;
const NUMBER = /^[+-]?\d{1,3}(?:\.\d{1,3})?$/;
const PERCENT = /^(\d{1,3}(?:\.\d{1,3})?)%$/;
const EXPECTED = '"[ip ]HH:MM - temperature - humidity%"';

/**
 * Parses one line. `fallbackIp` is the meter's address when the line has none
 * (e.g. the sender of the datagram).
 */
export function parseSurveyLine(text: string, fallbackIp?: string): Survey {
  const line = text.trim();
  if (line === '') throw new SurveyLineError('the line is empty');
  if (line.length > MAX_LINE_LENGTH) {
    throw new SurveyLineError(`the line is longer than ${MAX_LINE_LENGTH} characters`);
  }
  const parts = line.split(SEPARATOR);
  if (parts.length !== 3) {
    throw new SurveyLineError(
      `expected ${EXPECTED}: found ${parts.length} part${parts.length === 1 ? '' : 's'} separated by " - " instead of 3`,
    );
  }
  const head = parts[0].split(/\s+/);
  if (head.length > 2)
    throw new SurveyLineError(`expected ${EXPECTED}: "${parts[0]}" has more than an ip and a time`);
  const [ipText, timeText] = head.length === 2 ? head : [undefined, head[0]];
  return {
    ip: meterIp(ipText, fallbackIp),
    time: timeOfDay(timeText),
    temperature: temperature(parts[1]),
    humidity: humidity(parts[2]),
  };
}

/** Parses many lines (LF or CRLF); blank lines are skipped. */
export function parseSurveyLines(text: string, fallbackIp?: string): ParsedLines {
  const surveys: NumberedSurvey[] = [];
  const errors: LineProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    try {
      surveys.push({ ...parseSurveyLine(raw, fallbackIp), line: index + 1 });
    } catch (err) {
      if (!(err instanceof SurveyLineError)) throw err;
      errors.push({ line: index + 1, text: shorten(raw.trim()), reason: err.message });
    }
  });
  return { surveys, errors };
}

/** The line as meters send it and the gateway forwards it. */
export function formatSurveyLine(survey: Survey): string {
  return `${survey.ip} ${survey.time} - ${survey.temperature} - ${survey.humidity}%`;
}

/** The line as the cloud prints it: ip – time – temperature – humidity. */
export function formatPrintedLine(survey: Survey): string {
  return `${survey.ip} – ${survey.time} – ${survey.temperature} – ${survey.humidity}%`;
}

/** One sentence naming each bad line and why, for an error message. */
export function describeProblems(errors: readonly LineProblem[]): string {
  const listed = errors.slice(0, 10).map((e) => `line ${e.line} "${e.text}": ${e.reason}`);
  if (errors.length > 10) listed.push(`and ${errors.length - 10} more`);
  return `${errors.length} bad survey line${errors.length === 1 ? '' : 's'}: ${listed.join('; ')}`;
}

/**
 * When a reading was taken: lines carry only the time of day, and meters send
 * the readings of the previous 24 hours, so it is the last such time (local
 * time of this server) at or before `receivedAt`, allowing for a little drift
 * of the meter's clock.
 */
export function surveyTime(time: string, receivedAt: number, skewMs = CLOCK_SKEW_MS): number {
  const [hours, minutes] = timeOfDay(time).split(':').map(Number);
  const at = new Date(receivedAt);
  at.setHours(hours, minutes, 0, 0);
  if (at.getTime() > receivedAt + skewMs) at.setDate(at.getDate() - 1);
  return at.getTime();
}

function meterIp(text: string | undefined, fallback: string | undefined): string {
  if (text === undefined) {
    if (fallback === undefined || fallback === '') {
      throw new SurveyLineError(
        "no meter ip: the line has none and the sender's address is unknown",
      );
    }
    if (net.isIP(fallback) === 0)
      throw new SurveyLineError(`the sender's address "${fallback}" is not an ip address`);
    return fallback;
  }
  if (net.isIP(text) === 0) throw new SurveyLineError(`"${text}" is not an ip address`);
  return text;
}

function timeOfDay(text: string): string {
  const match = TIME.exec(text);
  if (!match) throw new SurveyLineError(`time "${text}" is not HH:MM`);
  if (Number(match[1]) > 23 || Number(match[2]) > 59) {
    throw new SurveyLineError(`time "${text}" is not a time of day (00:00 to 23:59)`);
  }
  return text;
}

function temperature(text: string): number {
  if (!NUMBER.test(text)) throw new SurveyLineError(`temperature "${text}" is not a number`);
  const value = Number(text);
  if (value < TEMPERATURE_RANGE.min || value > TEMPERATURE_RANGE.max) {
    throw new SurveyLineError(
      `temperature ${text} is out of range (${TEMPERATURE_RANGE.min} to ${TEMPERATURE_RANGE.max} °C)`,
    );
  }
  return value === 0 ? 0 : value; // no -0
}

function humidity(text: string): number {
  const match = PERCENT.exec(text);
  if (!match) {
    if (NUMBER.test(text)) throw new SurveyLineError(`humidity "${text}" lacks its % sign`);
    throw new SurveyLineError(`humidity "${text}" is not a percentage such as 30%`);
  }
  const value = Number(match[1]);
  if (value > 100) throw new SurveyLineError(`humidity ${text} is over 100%`);
  return value;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

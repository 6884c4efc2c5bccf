// A batch of surveys: what one meter sends in one datagram, as the gateway
// keeps it until the cloud confirms it. Its lines are in the canonical form
// (`ip HH:MM - T - H%`), so the cloud sees the meter's ip whatever the meter sent.
import crypto from 'node:crypto';
import { formatSurveyLine, LineProblem, NumberedSurvey, parseSurveyLines } from './survey-line';

export interface SurveyBatch {
  /** Unique id; the cloud confirms by it and stores a resent batch once. */
  id: string;
  /** Epoch ms when the gateway received it: the day its readings belong to. */
  receivedAt: number;
  /** Canonical survey lines. */
  lines: string[];
}

export interface DatagramSurveys {
  /** Canonical lines of the good readings. */
  lines: string[];
  surveys: NumberedSurvey[];
  errors: LineProblem[];
}

/** Batch ids: letters, digits and `_.:-`, so they travel in a frame header. */
export const BATCH_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

export function newBatchId(): string {
  return crypto.randomUUID();
}

/** The surveys of a datagram or message; `senderIp` stands in for lines without an ip. */
export function surveysOf(text: string, senderIp?: string): DatagramSurveys {
  const { surveys, errors } = parseSurveyLines(text, senderIp);
  return { lines: surveys.map(formatSurveyLine), surveys, errors };
}

/** Survey lines as a message may carry them: text, a Buffer, or an array of lines. */
export function surveyText(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  if (Array.isArray(payload) && payload.every((l) => typeof l === 'string'))
    return payload.join('\n');
  return undefined;
}

/** The body of a batch on the wire: its lines, each ending with a newline. */
export function batchBody(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}

/** Splits a batch body back into lines. */
export function bodyLines(body: string): string[] {
  return body.split('\n').filter((line) => line !== '');
}

/** Identifies a datagram's content, so a meter that sends again (no answer
 *  reached it) is not queued twice. */
export function contentDigest(senderIp: string, lines: readonly string[]): string {
  return crypto
    .createHash('sha256')
    .update(senderIp)
    .update('\0')
    .update(batchBody(lines))
    .digest('base64url');
}

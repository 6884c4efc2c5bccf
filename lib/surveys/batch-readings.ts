// A batch of survey lines as one history reading message (lib/history/
// readings.ts): a point per good line, with the fields temperature and
// humidity, the meter's ip as tag, dated by its time of day on the day the
// gateway received the batch. The same points the smart-meter flow made
// with survey-parse and a change node before the cloud stored them itself.
import type { ReadingConverter, ReadingMessage } from '../history/readings';
import type { HistoryWriter } from '../history/writer';
import type { ReceivedBatch } from './cloud-server';
import { describeProblems, LineProblem, parseSurveyLines, surveyTime } from './survey-line';

export interface BatchReadings {
  /** payload: one point per good line (an empty array when none). */
  message: ReadingMessage & { payload: SurveyPoint[] };
  /** The lines that are not surveys. */
  problems: LineProblem[];
}

export interface SurveyPoint {
  fields: { temperature: number; humidity: number };
  tags: { ip: string };
  time: number;
}

export function batchReadings(batch: Pick<ReceivedBatch, 'lines' | 'receivedAt'>): BatchReadings {
  const { surveys, errors } = parseSurveyLines(batch.lines.join('\n'));
  const payload = surveys.map((survey) => ({
    fields: { temperature: survey.temperature, humidity: survey.humidity },
    tags: { ip: survey.ip },
    time: surveyTime(survey.time, batch.receivedAt),
  }));
  return { message: { payload }, problems: errors };
}

/** Where storeBatch() reports what it could not store (bad input, kept out). */
export interface StoreReport {
  warn(text: string): void;
}

/**
 * Stores the good lines of a batch and resolves once they are on disk
 * (fsynced in the writer's spool), so the cloud confirms nothing it could
 * still lose. Bad lines and refused points are reported, not retried: they
 * would be refused again. Rejects when the points cannot be written. `now`
 * bounds how far ahead a survey's time may be.
 */
export function storeBatch(
  writer: HistoryWriter,
  converter: ReadingConverter,
  batch: Pick<ReceivedBatch, 'id' | 'lines' | 'receivedAt'>,
  report: StoreReport,
  now: number,
): Promise<number> {
  const { message, problems } = batchReadings(batch);
  if (problems.length > 0) report.warn(`batch ${batch.id}: ${describeProblems(problems)}`);
  if (message.payload.length === 0) return Promise.resolve(0);
  const { lines, errors } = converter.convert(message, now);
  if (errors.length > 0) report.warn(`batch ${batch.id}: refused: ${errors.join('; ')}`);
  if (lines.length === 0) return Promise.resolve(0);
  return new Promise((resolve, reject) =>
    writer.acceptFrom(lines, {
      stored: (err) => (err ? reject(err) : resolve(lines.length)),
      refused: (reason) => report.warn(`batch ${batch.id}: the history refused a point: ${reason}`),
    }),
  );
}

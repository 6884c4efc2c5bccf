// A batch's lines as history points: fields, the meter's ip as tag, dated by
// the arrival; bad lines set apart with their reasons.
import assert from 'node:assert/strict';
import { FieldTyping } from '../../../lib/history/field-types';
import { ReadingConverter } from '../../../lib/history/readings';
import { batchReadings } from '../../../lib/surveys/batch-readings';

describe('batch readings', () => {
  const receivedAt = new Date(2026, 10, 21, 9, 30).getTime();

  it('makes a point per good line, dated on the day of arrival or the evening before', () => {
    const { message, problems } = batchReadings({
      receivedAt,
      lines: ['192.168.1.2 08:00 - 20 - 30%', '', '192.168.1.3 20:00 - 21.5 - 28%'],
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(message.payload, [
      {
        fields: { temperature: 20, humidity: 30 },
        tags: { ip: '192.168.1.2' },
        time: new Date(2026, 10, 21, 8, 0).getTime(),
      },
      {
        fields: { temperature: 21.5, humidity: 28 },
        tags: { ip: '192.168.1.3' },
        time: new Date(2026, 10, 20, 20, 0).getTime(),
      },
    ]);
    const converter = new ReadingConverter({
      measurement: 'survey',
      typing: new FieldTyping({}),
      precision: 'ms',
      maxFutureMs: 3600_000,
    });
    const { lines, errors } = converter.convert(message, receivedAt);
    assert.deepEqual(errors, []);
    assert.equal(
      lines[0],
      `survey,ip=192.168.1.2 temperature=20,humidity=30 ${new Date(2026, 10, 21, 8, 0).getTime()}000000`,
    );
  });

  it('sets bad lines apart, numbered, and keeps the good ones', () => {
    const { message, problems } = batchReadings({
      receivedAt,
      lines: ['192.168.1.2 08:00 - 20 - 300%', 'nonsense', '192.168.1.2 09:00 - 20 - 30%'],
    });
    assert.equal(message.payload.length, 1);
    assert.deepEqual(
      problems.map((p) => p.line),
      [1, 2],
    );
    assert.match(problems[0].reason, /humidity 300% is over 100%/);
  });
});

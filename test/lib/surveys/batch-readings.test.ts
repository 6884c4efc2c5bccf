// A batch's lines as history points: fields, the meter's ip as tag, dated by
// the arrival; bad lines set apart with their reasons; stored on disk before
// storeBatch() resolves.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FieldTyping } from '../../../lib/history/field-types';
import { ReadingConverter } from '../../../lib/history/readings';
import { openHistory } from '../../../lib/history/service';
import { batchReadings, storeBatch } from '../../../lib/surveys/batch-readings';
import { silentLogger } from '../../../lib/util/log';
import { FakeClock } from '../../support/fake-clock';

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

  it('stores the good points before it resolves, and reports bad lines and points ahead of now', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-batch-'));
    const history = await openHistory({
      spec: { kind: 'embedded', store: { kind: 'sqlite', file: path.join(dir, 'sensflow.db') } },
      spoolDir: path.join(dir, 'spool'),
      spoolMaxBytes: 1 << 20,
      name: 'batch-test',
      clock: new FakeClock(),
      logger: silentLogger,
    });
    try {
      const converter = new ReadingConverter({
        measurement: 'survey',
        typing: new FieldTyping({}, history.learnedTypes),
        precision: 'ms',
        maxFutureMs: 3600_000,
      });
      const warnings: string[] = [];
      // The cloud's clock two hours behind the arrival: 08:00 is 30 min
      // ahead of it (allowed), 09:20 is 110 min ahead (refused).
      const now = receivedAt - 2 * 3600_000;
      const lines = ['192.168.1.2 08:00 - 20 - 30%', 'nonsense', '192.168.1.2 09:20 - 21 - 30%'];
      const stored = await storeBatch(
        history.writer,
        converter,
        { id: 'b1', lines, receivedAt },
        { warn: (text) => warnings.push(text) },
        now,
      );
      assert.equal(stored, 1);
      assert.equal(history.writer.state().pending, 1, 'on disk, in the spool');
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.match(warnings[0], /^batch b1: 1 bad survey line: line 2 "nonsense"/);
      assert.match(warnings[1], /^batch b1: refused: .*more than 3600 s in the future/);
    } finally {
      await history.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

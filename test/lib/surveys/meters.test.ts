// Simulated meters: a day of valid, reproducible readings at regular times,
// consecutive addresses, and sending that waits for the answer, sends again
// when none comes, and tells refused from unanswered.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {
  datagramOf,
  dayOfSurveys,
  inBatches,
  meterIps,
  sendSurveys,
} from '../../../lib/surveys/meters';
import { parseSurveyLines } from '../../../lib/surveys/survey-line';
import { freeUdpPort } from '../../support/net';

describe('simulated meters', () => {
  it('take a day of readings at regular times, valid and reproducible', () => {
    const day = dayOfSurveys('192.168.1.2', { readings: 24, seed: 1 });
    assert.deepEqual(
      day.map((s) => s.time),
      Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}:00`),
    );
    assert.deepEqual(dayOfSurveys('192.168.1.2', { readings: 24, seed: 1 }), day);
    assert.notDeepEqual(dayOfSurveys('192.168.1.2', { readings: 24, seed: 2 }), day);
    assert.notDeepEqual(dayOfSurveys('192.168.1.3', { readings: 24, seed: 1 }), day);
    assert.equal(dayOfSurveys('1.2.3.4', { readings: 96, seed: 1 })[1].time, '00:15');
    const warmest = day.reduce((a, b) => (b.temperature > a.temperature ? b : a));
    assert.ok(warmest.time >= '12:00' && warmest.time <= '23:00', `warmest at ${warmest.time}`);

    const { surveys, errors } = parseSurveyLines(datagramOf(day));
    assert.deepEqual(errors, []);
    assert.deepEqual(
      surveys.map(({ line: _line, ...s }) => s),
      day,
    );
    assert.throws(() => dayOfSurveys('1.2.3.4', { readings: 0, seed: 1 }), /1 to 1440 readings/);
  });

  it('have consecutive IPv4 addresses', () => {
    assert.deepEqual(meterIps('192.168.1.254', 3), [
      '192.168.1.254',
      '192.168.1.255',
      '192.168.2.0',
    ]);
    assert.throws(() => meterIps('fe80::1', 2), /not an IPv4 address/);
    assert.throws(() => meterIps('255.255.255.255', 2), /run past/);
  });

  describe('sending', () => {
    let server: dgram.Socket;
    let port: number;
    let received: string[];
    let answer: (count: number) => string | undefined;

    beforeEach(async () => {
      port = await freeUdpPort();
      received = [];
      server = dgram.createSocket('udp4');
      server.on('message', (data, remote) => {
        received.push(data.toString());
        const reply = answer(received.length);
        if (reply !== undefined) server.send(reply, remote.port, remote.address);
      });
      await new Promise<void>((resolve) => server.bind(port, '127.0.0.1', () => resolve()));
    });
    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

    // Long enough for a loopback answer on a busy machine: a late one would make
    // the sender try once more than the test expects.
    const options = { host: '127.0.0.1', timeoutMs: 1000, attempts: 3 };

    it('sends again when no answer comes, and stops at "Surveys arrived"', async () => {
      answer = (n) => (n === 2 ? 'Surveys arrived' : undefined);
      const result = await sendSurveys('1.2.3.4 08:00 - 20 - 30%\n', { ...options, port });
      assert.equal(result.outcome, 'arrived');
      assert.equal(result.attempts, 2);
      assert.ok(result.ms >= options.timeoutMs);
      assert.deepEqual(received, ['1.2.3.4 08:00 - 20 - 30%\n', '1.2.3.4 08:00 - 20 - 30%\n']);
    });

    it('takes "Surveys refused: …" as final, and ignores other chatter', async () => {
      answer = (n) => (n === 1 ? 'hello' : 'Surveys refused: 1 bad survey line');
      const result = await sendSurveys('x\n', { ...options, port });
      assert.deepEqual(
        [result.outcome, result.reply, result.attempts],
        ['refused', 'Surveys refused: 1 bad survey line', 2],
      );
    });

    it('gives up after its attempts', async () => {
      answer = () => undefined;
      const result = await sendSurveys('x\n', { ...options, timeoutMs: 500, port });
      assert.deepEqual([result.outcome, result.attempts, received.length], ['unanswered', 3, 3]);
    });
  });

  it('run jobs a few at a time, keeping their order', async () => {
    let running = 0;
    let most = 0;
    const results = await inBatches(
      Array.from({ length: 10 }, (_, i) => async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 10 - i));
        running -= 1;
        return i;
      }),
      3,
    );
    assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(most, 3);
  });
});

// The gateway on loopback, with simulated meters and a real cloud endpoint:
// "Surveys arrived" only once the batch is on disk; bad lines refused with
// reasons, the good ones kept; a meter's resend kept once; a cloud outage
// and a gateway restart (without a clean stop) lose nothing and duplicate
// nothing; a full gateway does not answer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tcpCloud } from '../../../lib/surveys/cloud-link';
import { ReceivedBatch, SurveyCloudServer } from '../../../lib/surveys/cloud-server';
import { GatewayOptions, SurveyGateway } from '../../../lib/surveys/gateway';
import { datagramOf, dayOfSurveys, meterIps, sendSurveys } from '../../../lib/surveys/meters';
import { SeenIds } from '../../../lib/surveys/seen-ids';
import { LineProblem } from '../../../lib/surveys/survey-line';
import { systemClock } from '../../../lib/util/clock';
import { silentLogger } from '../../../lib/util/log';
import { freePort, waitFor } from '../../support/net';

describe('survey gateway', function () {
  this.timeout(20_000);
  let dir: string;
  let cloudPort: number;
  let cloud: SurveyCloudServer | undefined;
  let seen: SeenIds | undefined;
  let taken: ReceivedBatch[];
  const gateways: SurveyGateway[] = [];

  async function startCloud() {
    seen = await SeenIds.open({ file: path.join(dir, 'cloud', 'batch-ids') });
    cloud = await SurveyCloudServer.listen({
      host: '127.0.0.1',
      port: cloudPort,
      seen,
      logger: silentLogger,
      name: 'test',
      onBatch: (b) => {
        taken.push(b);
      },
    });
  }
  async function stopCloud() {
    await cloud?.close();
    await seen?.close();
    cloud = undefined;
  }
  async function startGateway(options: Partial<GatewayOptions> = {}) {
    const gateway = await SurveyGateway.start({
      listen: { host: '127.0.0.1', port: 0 },
      cloud: tcpCloud({ host: '127.0.0.1', port: cloudPort }),
      queueDir: path.join(dir, 'queue'),
      maxBatches: 100,
      clock: systemClock,
      logger: silentLogger,
      name: 'test',
      backoff: { initialMs: 50, maxMs: 200 },
      ...options,
    });
    gateways.push(gateway);
    return gateway;
  }
  // The answer comes once the batch is on disk: a loaded machine can take
  // more than half a second for that, so each try waits long enough.
  const send = (gateway: SurveyGateway, text: string) =>
    sendSurveys(text, { host: '127.0.0.1', port: gateway.udpPort!, timeoutMs: 2000, attempts: 3 });
  /** The lines the cloud took, each "ip time", sorted. */
  const takenLines = () => taken.flatMap((b) => b.lines).sort();

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-survey-gateway-'));
    cloudPort = await freePort();
    taken = [];
  });
  afterEach(async () => {
    for (const g of gateways.splice(0)) await g.stop();
    await stopCloud();
  });

  it('answers "Surveys arrived" once the batch is on disk, then forwards it', async () => {
    await startCloud();
    let keptAtReply = false;
    const gateway = await startGateway();
    const day = dayOfSurveys('192.168.1.2', { readings: 24, seed: 1 });
    const result = await send(gateway, datagramOf(day)).then((sent) => {
      const files = fs.readdirSync(path.join(dir, 'queue')).filter((f) => f.endsWith('.json'));
      // On disk, unless already confirmed by the cloud (which then has it).
      keptAtReply = files.length === 1 || taken.length === 1;
      return sent;
    });
    assert.equal(result.outcome, 'arrived');
    assert.equal(result.reply, 'Surveys arrived');
    assert.ok(keptAtReply, 'kept on disk (or already forwarded) before the answer');
    await waitFor(async () => assert.equal(taken.length, 1), 5000);
    assert.equal(taken[0].lines.length, 24);
    assert.equal(
      taken[0].lines[8],
      `192.168.1.2 ${day[8].time} - ${day[8].temperature} - ${day[8].humidity}%`,
    );
    await waitFor(async () => assert.equal(gateway.state().pending, 0), 2000);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'queue')), [], 'forgotten once confirmed');
  });

  it('takes any number of meters, and lines without an ip from the sender', async () => {
    await startCloud();
    const gateway = await startGateway();
    const ips = meterIps('10.1.0.250', 12);
    assert.equal(ips[11], '10.1.1.5');
    const results = await Promise.all(
      ips.map((ip) => send(gateway, datagramOf(dayOfSurveys(ip, { readings: 4, seed: 2 })))),
    );
    assert.ok(results.every((r) => r.outcome === 'arrived'));
    assert.equal((await send(gateway, '07:00 - 18 - 28%\n10:00 - 22 - 38%\n')).outcome, 'arrived');
    await waitFor(async () => assert.equal(taken.length, 13), 5000);
    assert.equal(new Set(takenLines()).size, 12 * 4 + 2);
    assert.ok(
      takenLines().includes('127.0.0.1 07:00 - 18 - 28%'),
      "the sender's address stands in",
    );
  });

  it('keeps the good lines of a datagram, reports the bad ones, and refuses a datagram with none', async () => {
    await startCloud();
    const bad: Array<{ ip: string; errors: LineProblem[] }> = [];
    const gateway = await startGateway({
      onBadLines: (sender, errors) => bad.push({ ip: sender.ip, errors }),
    });
    const mixed = await send(
      gateway,
      '192.168.1.2 08:00 - 20 - 30%\n192.168.1.2 12:00 - 25 - 133%\n',
    );
    assert.equal(mixed.reply, 'Surveys arrived');
    const none = await send(gateway, 'hello\n');
    assert.equal(none.outcome, 'refused');
    assert.match(none.reply!, /^Surveys refused: 1 bad survey line: line 1 "hello": expected/);
    assert.equal(
      (await send(gateway, '\n\n')).reply,
      'Surveys arrived',
      'an empty day is nothing to keep',
    );
    await waitFor(async () => assert.equal(taken.length, 1), 5000);
    assert.deepEqual(taken[0].lines, ['192.168.1.2 08:00 - 20 - 30%']);
    assert.deepEqual(
      bad.map((b) => [b.ip, b.errors.map((e) => `${e.line}: ${e.reason}`)]),
      [
        ['127.0.0.1', ['2: humidity 133% is over 100%']],
        [
          '127.0.0.1',
          [
            '1: expected "[ip ]HH:MM - temperature - humidity%": found 1 part separated by " - " instead of 3',
          ],
        ],
      ],
    );
  });

  it('keeps a batch sent again by its meter once, pending or forwarded', async () => {
    const gateway = await startGateway();
    const text = datagramOf(dayOfSurveys('192.168.1.7', { readings: 6, seed: 3 }));
    const other = datagramOf(dayOfSurveys('192.168.1.7', { readings: 6, seed: 4 }));
    await send(gateway, text);
    await send(gateway, text); // no cloud yet: still pending
    await Promise.all([send(gateway, other), send(gateway, other)]); // at the same time
    assert.equal(gateway.state().pending, 2);
    await startCloud();
    await waitFor(async () => assert.equal(gateway.state().pending, 0), 5000);
    assert.equal((await send(gateway, text)).reply, 'Surveys arrived'); // after forwarding
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(taken.length, 2);
  });

  it('loses nothing through a cloud outage, and takes every reading once', async () => {
    await startCloud();
    const gateway = await startGateway();
    const ips = meterIps('192.168.2.1', 5);
    const day = (seed: number) => (ip: string) =>
      send(gateway, datagramOf(dayOfSurveys(ip, { readings: 24, seed })));
    await Promise.all(ips.map(day(1)));
    await waitFor(async () => assert.equal(taken.length, 5), 5000);

    await stopCloud();
    const during = await Promise.all(ips.map(day(2)));
    assert.ok(
      during.every((r) => r.outcome === 'arrived'),
      'meters are answered while the cloud is down',
    );
    // A try to forward them fails (the cloud is down): they stay pending.
    await waitFor(async () => assert.ok(gateway.state().failures > 0), 5000);
    assert.equal(gateway.state().pending, 5);

    await startCloud();
    await waitFor(async () => assert.equal(gateway.state().pending, 0), 5000);
    assert.equal(taken.length, 10);
    const expected = ips.flatMap((ip) =>
      [1, 2].flatMap((seed) =>
        datagramOf(dayOfSurveys(ip, { readings: 24, seed }))
          .trim()
          .split('\n'),
      ),
    );
    assert.deepEqual(takenLines(), expected.sort(), 'every reading of both days, each once');
  });

  it('forwards after a restart what it had not forwarded', async () => {
    const first = await startGateway();
    for (const ip of meterIps('192.168.3.1', 3)) {
      assert.equal(
        (await send(first, datagramOf(dayOfSurveys(ip, { readings: 24, seed: 9 })))).outcome,
        'arrived',
      );
    }
    // The next gateway opens the same folder (the flow test restarts with kill -9).
    gateways.splice(gateways.indexOf(first), 1);
    await first.stop();
    await startCloud();
    const second = await startGateway();
    await waitFor(async () => assert.equal(taken.length, 3), 5000);
    // The cloud takes a batch before the gateway reads its confirmation.
    await waitFor(async () => assert.equal(second.state().pending, 0), 5000);
    assert.equal(takenLines().length, 72);
    assert.equal(new Set(takenLines()).size, 72);
  });

  it('does not answer while full, so meters send again later', async () => {
    const gateway = await startGateway({ maxBatches: 1 });
    assert.equal((await send(gateway, '192.168.1.2 08:00 - 20 - 30%\n')).outcome, 'arrived');
    const full = await sendSurveys('192.168.1.3 08:00 - 20 - 30%\n', {
      host: '127.0.0.1',
      port: gateway.udpPort!,
      timeoutMs: 200,
      attempts: 2,
    });
    assert.deepEqual([full.outcome, full.attempts], ['unanswered', 2]);
    assert.equal(gateway.state().pending, 1);
  });

  it('fails to start when its UDP port is taken', async () => {
    const gateway = await startGateway();
    await assert.rejects(
      startGateway({
        listen: { host: '127.0.0.1', port: gateway.udpPort! },
        queueDir: path.join(dir, 'q2'),
      }),
      /EADDRINUSE/,
    );
  });
});

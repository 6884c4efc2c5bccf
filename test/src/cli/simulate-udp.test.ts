// `sensflow simulate udp` as a user runs it: meters answered by a gateway
// (a plain UDP socket here), a silent gateway, and wrong options.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { parseSurveyLines } from '../../../lib/surveys/survey-line';
import { freeUdpPort } from '../../support/net';
import { runSensflow } from '../../support/sensflow-process';

describe('sensflow simulate udp', function () {
  this.timeout(30_000);

  it('sends each meter a day of surveys and reports the answers', async () => {
    const port = await freeUdpPort();
    const gateway = dgram.createSocket('udp4');
    const datagrams: string[] = [];
    gateway.on('message', (data, remote) => {
      datagrams.push(data.toString());
      gateway.send('Surveys arrived', remote.port, remote.address);
    });
    await new Promise<void>((resolve) => gateway.bind(port, '127.0.0.1', () => resolve()));
    try {
      const result = await runSensflow(
        [
          'simulate',
          'udp',
          '--meters',
          '3',
          '--readings',
          '96',
          '--port',
          String(port),
          '--days',
          '2',
        ],
        {},
      );
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^3 meters, 96 readings a day each, to udp 127\.0\.0\.1:\d+$/m);
      assert.match(result.stdout, /^192\.168\.1\.4: 96 surveys, "Surveys arrived" in \d+ ms$/m);
      assert.match(result.stdout, /^day 2: 3 of 3 arrived, 0 refused, 0 unanswered$/m);
      assert.equal(datagrams.length, 6);
      for (const datagram of datagrams) {
        const { surveys, errors } = parseSurveyLines(datagram);
        assert.deepEqual(errors, []);
        assert.equal(surveys.length, 96);
      }
    } finally {
      gateway.close();
    }
  });

  it('exits 1 when a gateway does not answer', async () => {
    const port = await freeUdpPort();
    const result = await runSensflow(
      [
        'simulate',
        'udp',
        '--meters',
        '2',
        '--port',
        String(port),
        '--timeout',
        '0.1',
        '--attempts',
        '2',
      ],
      {},
    );
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^192\.168\.1\.2: 24 surveys, no answer, 2 sends$/m);
    assert.match(result.stdout, /^day 1: 0 of 2 arrived, 0 refused, 2 unanswered$/m);
  });

  it('names a wrong option in one line, and lists the kinds of simulators', async () => {
    const bad = await runSensflow(['simulate', 'udp', '--meters', 'many'], {});
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'sensflow: --meters: "many" is not a whole number from 1 to 100000\n');
    const ip = await runSensflow(['simulate', 'udp', '--first-ip', '300.1.1.1'], {});
    assert.match(ip.stderr, /--first-ip: "300\.1\.1\.1" is not an IPv4 address/);
    const kinds = await runSensflow(['simulate'], {});
    assert.equal(kinds.code, 2);
    assert.match(
      kinds.stderr,
      /usage: sensflow simulate <kind>.*\n\s+eot\s+EOT devices.*\n\s+udp\s+smart meters/,
    );
  });
});

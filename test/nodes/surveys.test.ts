// The survey nodes in a real Node-RED runtime: survey-parse makes one message
// per reading and fails bad lines clearly; survey-gateway answers simulated
// meters, reports what it keeps and forwards, and takes batches as messages;
// survey-cloud hands each batch to the flow once; a gateway redeployed with
// batches pending forwards them once the cloud is back.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { NodeMessage } from 'node-red';
import historyStore from '../../nodes/history-store/history-store';
import type { HistoryStoreNode } from '../../nodes/history-store/history-store-node';
import surveyCloud from '../../nodes/survey-cloud/survey-cloud';
import surveyGateway from '../../nodes/survey-gateway/survey-gateway';
import surveyParse from '../../nodes/survey-parse/survey-parse';
import { datagramOf, dayOfSurveys, sendSurveys } from '../../lib/surveys/meters';
import { freePort, freeUdpPort, waitFor } from '../support/net';
import { helper, load, startServer, stopServer, userDir } from '../support/node-helper';

type Msg = NodeMessage & Record<string, unknown>;

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (msg: Msg) => got.push(msg));
  return got;
}

/** A Catch node's error text (Node-RED prefixes "Error: "). */
const errorText = (msg: Msg) => (msg.error as { message: string }).message.replace(/^Error: /, '');

describe('survey nodes', function () {
  this.timeout(30_000);

  beforeEach(async () => {
    fs.rmSync(path.join(userDir, 'surveys'), { recursive: true, force: true });
    await startServer();
  });
  afterEach(stopServer);

  describe('survey-parse', () => {
    beforeEach(() =>
      load(
        [surveyParse],
        [
          { id: 'p', type: 'survey-parse', wires: [['out']] },
          { id: 'k', type: 'catch', scope: ['p'], uncaught: false, wires: [['errors']] },
          { id: 'out', type: 'helper' },
          { id: 'errors', type: 'helper' },
        ],
      ),
    );

    it("sends one message per reading, dated by the arrival, with the input's other properties", async () => {
      const out = collect('out');
      const arrival = new Date(2026, 10, 21, 9, 30).getTime();
      helper.getNode('p').receive({
        payload: '192.168.1.2 08:00 - 20 - 30%\n\n192.168.1.2 20:00 - 21.5 - 28%\n',
        receivedAt: arrival,
        batchId: 'b1',
      } as never);
      await waitFor(async () => assert.equal(out.length, 2), 2000);
      assert.deepEqual(out[0].payload, {
        ip: '192.168.1.2',
        time: '08:00',
        temperature: 20,
        humidity: 30,
      });
      assert.equal(out[0].topic, '192.168.1.2');
      assert.equal(out[0].timestamp, new Date(2026, 10, 21, 8, 0).getTime());
      assert.equal(out[0].line, 1);
      assert.equal(out[0].batchId, 'b1');
      assert.deepEqual(out[1].payload, {
        ip: '192.168.1.2',
        time: '20:00',
        temperature: 21.5,
        humidity: 28,
      });
      assert.equal(out[1].timestamp, new Date(2026, 10, 20, 20, 0).getTime(), 'the evening before');
      assert.equal(out[1].line, 3);
    });

    it('takes msg.ip for lines without one, and an array of lines', async () => {
      const out = collect('out');
      helper
        .getNode('p')
        .receive({ payload: ['07:00 - 18 - 28%', '10:00 - 22 - 38%'], ip: '10.0.0.9' } as never);
      await waitFor(async () => assert.equal(out.length, 2), 2000);
      assert.deepEqual(
        out.map((m) => (m.payload as { ip: string }).ip),
        ['10.0.0.9', '10.0.0.9'],
      );
      assert.ok(
        Math.abs((out[0].timestamp as number) - Date.now()) < 25 * 3600_000,
        'dated from now',
      );
    });

    it('sends the good lines and fails the message naming each bad line', async () => {
      const out = collect('out');
      const errors = collect('errors');
      helper.getNode('p').receive({
        payload: '192.168.1.2 08:00 - 20 - 30%\n192.168.1.2 25:00 - 20 - 30%\nnot a survey\n',
      } as never);
      await waitFor(async () => assert.equal(errors.length, 1), 2000);
      assert.equal(out.length, 1);
      assert.equal(
        errorText(errors[0]),
        '2 bad survey lines: line 2 "192.168.1.2 25:00 - 20 - 30%": time "25:00" is not a time of day (00:00 to 23:59); ' +
          'line 3 "not a survey": expected "[ip ]HH:MM - temperature - humidity%": found 1 part separated by " - " instead of 3',
      );
      assert.deepEqual(
        (errors[0].badLines as Array<{ line: number }>).map((e) => e.line),
        [2, 3],
      );
    });

    it('refuses a payload that is not lines, and a bad arrival time', async () => {
      const out = collect('out');
      const errors = collect('errors');
      helper.getNode('p').receive({ payload: { ip: '1.2.3.4' } } as never);
      helper
        .getNode('p')
        .receive({ payload: '1.2.3.4 08:00 - 1 - 2%', receivedAt: 'yesterday' } as never);
      await waitFor(async () => assert.equal(errors.length, 2), 2000);
      assert.match(errorText(errors[0]), /survey-parse\.errors\.payload|must be survey lines/);
      assert.match(errorText(errors[1]), /survey-parse\.errors\.receivedAt|epoch milliseconds/);
      assert.equal(out.length, 0);
    });
  });

  describe('survey-gateway and survey-cloud', () => {
    let udpPort: number;
    let cloudPort: number;

    beforeEach(async () => {
      udpPort = await freeUdpPort();
      cloudPort = await freePort();
    });

    const gatewayNode = () => ({
      id: 'gw',
      type: 'survey-gateway',
      host: '127.0.0.1',
      port: String(udpPort),
      cloudHost: '127.0.0.1',
      cloudPort: String(cloudPort),
      retryMax: '1',
      wires: [['kept'], ['news']],
    });
    const cloudNodes = () => [
      {
        id: 'cloud',
        type: 'survey-cloud',
        host: '127.0.0.1',
        port: String(cloudPort),
        wires: [['batches', 'parse']],
      },
      { id: 'parse', type: 'survey-parse', wires: [['readings']] },
    ];
    const helpers = ['kept', 'news', 'batches', 'readings', 'errors'].map((id) => ({
      id,
      type: 'helper',
    }));
    const catchAll = { id: 'k', type: 'catch', scope: null, uncaught: false, wires: [['errors']] };
    const meter = (ip: string, seed: number) =>
      sendSurveys(datagramOf(dayOfSurveys(ip, { readings: 24, seed })), {
        host: '127.0.0.1',
        port: udpPort,
        timeoutMs: 1000,
        attempts: 3,
      });

    it('answers meters, keeps, forwards, and the cloud hands each batch to the flow', async () => {
      await load(
        [surveyGateway, surveyCloud, surveyParse],
        [gatewayNode(), ...cloudNodes(), catchAll, ...helpers],
      );
      const [kept, news, batches, readings] = ['kept', 'news', 'batches', 'readings'].map(collect);
      await waitFor(
        async () => assert.equal((await meter('192.168.1.2', 1)).reply, 'Surveys arrived'),
        5000,
      );
      assert.equal((await meter('192.168.1.3', 1)).reply, 'Surveys arrived');
      await waitFor(async () => assert.equal(readings.length, 48), 5000);

      assert.equal(kept.length, 2);
      assert.equal(kept[0].topic, 'arrived');
      assert.equal(kept[0].count, 24);
      assert.match(kept[0].source as string, /^127\.0\.0\.1:\d+$/);
      assert.match(kept[0].payload as string, /^192\.168\.1\.2 00:00 - [\d.]+ - \d+%\n/);
      assert.deepEqual(
        batches.map((b) => [b.batchId, b.count, b.receivedAt]),
        kept.map((k) => [k.batchId, 24, k.receivedAt]),
        'the cloud gets the batches the gateway kept, ids and arrival times included',
      );
      assert.equal(batches[0].payload, kept[0].payload);
      await waitFor(async () => assert.equal(news.length, 2), 2000);
      assert.deepEqual(
        news.map((n) => ({ ...(n.payload as object), pending: 0 })),
        kept.map((k) => ({ event: 'forwarded', pending: 0, batchId: k.batchId, count: 24 })),
      );
      assert.equal((news[1].payload as { pending: number }).pending, 0);
      const day = dayOfSurveys('192.168.1.3', { readings: 24, seed: 1 });
      assert.deepEqual(
        readings.filter((r) => r.topic === '192.168.1.3').map((r) => r.payload),
        day,
      );
    });

    it('reports the bad lines of a datagram to Catch nodes, and takes batches as messages', async () => {
      await load(
        [surveyGateway, surveyCloud, surveyParse],
        [gatewayNode(), ...cloudNodes(), catchAll, ...helpers],
      );
      const [readings, errors] = ['readings', 'errors'].map(collect);
      const reply = await sendSurveys(
        '192.168.1.2 08:00 - 20 - 30%\n192.168.1.2 08:00 - 20 - 300%\n',
        {
          host: '127.0.0.1',
          port: udpPort,
          timeoutMs: 1000,
          attempts: 3,
        },
      );
      assert.equal(reply.reply, 'Surveys arrived');
      await waitFor(async () => assert.equal(errors.length, 1), 2000);
      assert.equal(
        errorText(errors[0]),
        '1 bad survey line: line 2 "192.168.1.2 08:00 - 20 - 300%": humidity 300% is over 100%',
      );
      assert.equal(errors[0].ip, '127.0.0.1');

      const gateway = helper.getNode('gw');
      gateway.receive({ payload: '07:00 - 18 - 28%\n', ip: '10.0.0.5' } as never);
      gateway.receive({ payload: 'nonsense', ip: '10.0.0.5' } as never);
      gateway.receive({ payload: 42 } as never);
      await waitFor(async () => assert.equal(readings.length, 2), 5000);
      assert.deepEqual(readings.map((r) => r.topic).sort(), ['10.0.0.5', '192.168.1.2']);
      await waitFor(async () => assert.equal(errors.length, 3), 2000);
      const texts = errors.slice(1).map(errorText).sort();
      assert.match(texts[0], /^1 bad survey line: line 1 "nonsense"/);
      assert.match(texts[1], /survey-gateway\.errors\.payload|must be survey lines/);
    });

    it('keeps batches while the cloud is away, across a redeploy, and delivers them once', async () => {
      await load([surveyGateway, surveyCloud, surveyParse], [gatewayNode(), catchAll, ...helpers]);
      const news = collect('news');
      for (const ip of ['192.168.5.1', '192.168.5.2'])
        assert.equal((await meter(ip, 7)).reply, 'Surveys arrived');
      await waitFor(
        async () =>
          assert.deepEqual(
            news.map((n) => (n.payload as { event: string }).event),
            ['unreachable'],
          ),
        5000,
      );
      assert.ok((news[0].payload as { pending: number }).pending >= 1);
      assert.match((news[0].payload as { error: string }).error, /ECONNREFUSED/);

      // A redeploy stops the gateway with its batches on disk; the new one brings the cloud.
      await helper.unload();
      await load(
        [surveyGateway, surveyCloud, surveyParse],
        [gatewayNode(), ...cloudNodes(), catchAll, ...helpers],
      );
      const readings = collect('readings');
      const batches = collect('batches');
      await waitFor(async () => assert.equal(readings.length, 48), 10_000);
      // The gateway drops a batch's file once the cloud has confirmed it,
      // which may come after the batch's readings went out of the flow.
      const kept = path.join(userDir, 'surveys', 'gateway-gw');
      await waitFor(async () => assert.deepEqual(fs.readdirSync(kept), []), 5000);
      await new Promise((r) => setTimeout(r, 300)); // a batch sent twice would follow
      assert.equal(batches.length, 2);
      assert.equal(readings.length, 48);
      assert.deepEqual(fs.readdirSync(kept), []);
    });

    describe('with a history store', () => {
      const storeNodes = () => [
        { id: 'hs', type: 'history-store', backend: 'default', flushInterval: '50' },
        { ...cloudNodes()[0], store: 'hs', wires: [['batches']] },
      ];
      const storeNode = () => helper.getNode('hs') as HistoryStoreNode;
      const writerState = async () => (await storeNode().history()).writer.state();

      it('stores the good lines of a batch, which still goes out of the node', async () => {
        await load(
          [surveyGateway, surveyCloud, historyStore],
          [gatewayNode(), ...storeNodes(), catchAll, ...helpers],
        );
        const [news, batches] = ['news', 'batches'].map(collect);
        const accepted: number[] = [];
        // When the gateway has heard "Surveys received", the store holds the
        // points (in its spool or written); the next test shows the answer
        // waits for the store.
        helper
          .getNode('news')
          .on('input', () => writerState().then((s) => accepted.push(s.pending + s.written)));
        const reply = await sendSurveys(
          '192.168.1.2 08:00 - 20 - 30%\n192.168.1.2 09:00 - 20 - 300%\n192.168.1.3 09:00 - 21.5 - 28%\n',
          { host: '127.0.0.1', port: udpPort, timeoutMs: 1000, attempts: 3 },
        );
        assert.equal(reply.reply, 'Surveys arrived');
        await waitFor(async () => assert.equal(news.length, 1), 5000);
        assert.equal((news[0].payload as { event: string }).event, 'forwarded');
        await waitFor(async () => assert.deepEqual(accepted, [2]), 2000);
        assert.equal(batches.length, 1, 'the batch still goes out of the node');

        const history = await storeNode().history();
        await history.writer.flush();
        const series = await history.backend.query({
          measurement: 'survey',
          field: 'temperature',
          where: {},
          groupBy: ['ip'],
          from: 0,
          to: Date.now() + 3600_000,
          aggregation: 'count',
          intervalMs: 1000 * 86_400_000,
        });
        const counts = series.map((one) => [one.tags.ip, one.points[0].value]).sort();
        // The bad line of 192.168.1.2 was left out.
        assert.deepEqual(counts, [
          ['192.168.1.2', 1],
          ['192.168.1.3', 1],
        ]);
      });

      it('leaves a batch with the gateway while the store cannot write it', async () => {
        await load(
          [surveyGateway, surveyCloud, historyStore],
          [gatewayNode(), ...storeNodes(), catchAll, ...helpers],
        );
        const [news, batches] = ['news', 'batches'].map(collect);
        await (await storeNode().history()).writer.close();
        assert.equal((await meter('192.168.1.2', 3)).reply, 'Surveys arrived');
        await waitFor(
          async () =>
            assert.ok(news.some((n) => (n.payload as { event: string }).event !== 'forwarded')),
          5000,
        );
        assert.deepEqual(
          news.filter((n) => (n.payload as { event: string }).event === 'forwarded'),
          [],
        );
        assert.equal(batches.length, 0);
        const { error, pending } = news[0].payload as { error: string; pending: number };
        assert.match(error, /not taken: the history writer is closed/);
        assert.ok(pending >= 1, 'the gateway still keeps it');
      });
    });

    it('logs a clear error when its port is taken or wrong', async () => {
      await load(
        [surveyGateway, surveyCloud],
        [
          { id: 'c1', type: 'survey-cloud', host: '127.0.0.1', port: String(cloudPort) },
          // Whichever of the two listens second finds the port taken.
          { id: 'c2', type: 'survey-cloud', host: '127.0.0.1', port: String(cloudPort) },
          { ...gatewayNode(), port: 'x', wires: [] },
        ],
      );
      type LogEvent = { id?: string; level: number; msg?: unknown };
      const ERROR = 20; // Node-RED's log level number for errors
      const logged = () =>
        helper
          .log()
          .args.map((args) => args[0] as LogEvent)
          .filter((e) => e.level === ERROR)
          .map((e) => `${e.id}: ${String(e.msg)}`);
      await waitFor(async () => {
        assert.ok(
          logged().some((line) => /^c[12]: .*EADDRINUSE/.test(line)),
          logged().join('\n'),
        );
        assert.ok(
          logged().some((line) => /^gw: .*"x" is not a port number/.test(line)),
          logged().join('\n'),
        );
      }, 3000);
    });
  });
});

// The history nodes in a real Node-RED runtime: history-out acknowledges
// good readings (Complete) and refuses bad ones (Catch), history-query fills
// a chart, on InfluxDB and on the embedded default; a point InfluxDB refuses
// after the acknowledgement still reaches the message's Catch node.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import historyOut from '../../nodes/history-out/history-out';
import historyQuery from '../../nodes/history-query/history-query';
import historyStore from '../../nodes/history-store/history-store';
import { setSpoolDefaults } from '../../lib/history/spec';
import { setDefaultStoreSpec } from '../../lib/store/shared';
import { databaseName, influxQl, postLines } from '../support/history';
import { waitFor } from '../support/net';
import { helper, load, startServer, stopServer } from '../support/node-helper';
import { influxdb } from '../support/services';

type Msg = Record<string, unknown>;

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (msg: Msg) => got.push(msg));
  return got;
}

function flow(store: Record<string, unknown>) {
  return [
    { id: 's1', type: 'history-store', flushInterval: '50', ...store },
    { id: 'o1', type: 'history-out', store: 's1', fieldTypes: '{"pulses": {"value": "integer"}}' },
    { id: 'c1', type: 'complete', scope: ['o1'], wires: [['done']] },
    { id: 'k1', type: 'catch', scope: ['o1'], uncaught: false, wires: [['errors']] },
    {
      id: 'q1',
      type: 'history-query',
      store: 's1',
      measurement: 'temperature',
      groupBy: 'room',
      range: '1h',
      wires: [['chart']],
    },
    { id: 'done', type: 'helper' },
    { id: 'errors', type: 'helper' },
    { id: 'chart', type: 'helper' },
  ];
}

describe('history nodes', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-history-nodes-'));
    setDefaultStoreSpec({ kind: 'sqlite', file: path.join(dir, 'sensflow.db') });
    setSpoolDefaults({ dir: path.join(dir, 'spool') });
    await startServer();
  });
  afterEach(async () => {
    await stopServer();
    setDefaultStoreSpec(undefined);
    setSpoolDefaults({ dir: undefined });
  });

  async function exercise() {
    const done = collect('done');
    const errors = collect('errors');
    const out = helper.getNode('o1');
    const now = Date.now();
    const segments = (room: string) => ({ site: 'UT3', building: 'u4', room, kind: 'temperature' });
    out.receive({ payload: 21.5, segments: segments('300'), timestamp: now - 60_000 } as never);
    out.receive({ payload: 22.5, segments: segments('300'), timestamp: now - 30_000 } as never);
    out.receive({ payload: '19', segments: segments('301'), timestamp: now - 30_000 } as never);
    out.receive({ payload: 'hot', segments: segments('301') } as never);
    await waitFor(async () => assert.equal(done.length + errors.length, 4), 10_000);
    assert.equal(done.length, 3, 'three acknowledged');
    assert.equal(errors.length, 1);
    assert.match(
      (errors[0].error as { message: string }).message,
      /refused: field value of temperature is not a number: "hot"/,
    );

    const chart = collect('chart');
    await waitFor(
      async () => {
        helper.getNode('q1').receive({} as never);
        await waitFor(async () => assert.ok(chart.length > 0), 2000);
        const last = chart[chart.length - 1];
        assert.equal(last.action, 'replace');
        const points = (last.payload as Array<{ x: number; y: number; series: string }>)
          .map((p) => [p.series, p.y])
          .sort();
        assert.deepEqual(points, [
          ['300', 21.5],
          ['300', 22.5],
          ['301', 19],
        ]);
      },
      10_000,
      200,
    );
  }

  /** The flow on a new database of the shared InfluxDB. */
  async function deployOnInfluxDb() {
    const url = (await influxdb()).url;
    const database = databaseName('nodes');
    await load(
      [historyStore, historyOut, historyQuery],
      flow({ backend: 'influxdb', url, database, create: true }),
    );
    return { url, database };
  }

  it('writes and reads back through InfluxDB', async () => {
    await deployOnInfluxDb();
    await exercise();
  });

  it('writes and reads back through the embedded default', async () => {
    await load([historyStore, historyOut, historyQuery], flow({ backend: 'default' }));
    await exercise();
    assert.ok(fs.existsSync(path.join(dir, 'sensflow.db')));
    assert.ok(fs.existsSync(path.join(dir, 'spool', 's1')), 'the spool under the spool folder');
  });

  it('reports a point InfluxDB refuses after the acknowledgement to its message', async () => {
    const { url, database } = await deployOnInfluxDb();
    const done = collect('done');
    const errors = collect('errors');
    // Another writer made temperature.value an integer, in this week's shard
    // (InfluxDB fixes field types per shard).
    const line = `temperature value=1i ${Date.now() - 1000}000000`;
    await waitFor(async () => assert.equal(await postLines(url, database, [line]), 204), 5000);
    helper
      .getNode('o1')
      .receive({ payload: 21.5, measurement: 'temperature', _msgid: 'late' } as never);
    await waitFor(async () => assert.equal(errors.length, 1), 10_000);
    assert.equal(done.length, 1, 'acknowledged first');
    assert.equal(errors[0]._msgid, 'late');
    assert.match(
      (errors[0].error as { message: string }).message,
      /rejected: .*field type conflict/,
    );
  });

  it('keeps the order of the messages that arrive while its store opens', async () => {
    const { url, database } = await deployOnInfluxDb();
    const done = collect('done');
    // Sent at once after the deploy: the first ones find the store opening.
    // Same series and time: InfluxDB keeps the last write, so order shows.
    const time = Date.now() - 1000;
    for (let i = 1; i <= 20; i++) {
      helper.getNode('o1').receive({ payload: i, measurement: 'order', timestamp: time } as never);
    }
    await waitFor(async () => assert.equal(done.length, 20), 10_000);
    await waitFor(async () => {
      const [series] = await influxQl(url, database, 'SELECT "value" FROM "order"');
      assert.deepEqual(series?.values, [[time, 20]]);
    }, 10_000);
  });

  it('fails each message clearly without a history-store', async () => {
    await load(
      [historyStore, historyOut],
      [
        { id: 'o1', type: 'history-out', store: 'missing' },
        { id: 'k1', type: 'catch', scope: ['o1'], uncaught: false, wires: [['errors']] },
        { id: 'errors', type: 'helper' },
      ],
    );
    const errors = collect('errors');
    helper.getNode('o1').receive({ payload: 1 } as never);
    await waitFor(async () => assert.equal(errors.length, 1), 5000);
    assert.match(
      (errors[0].error as { message: string }).message,
      /errors\.noStore: missing|no such history-store: missing/,
    );
  });
});

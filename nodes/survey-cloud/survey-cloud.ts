// survey-cloud: the cloud endpoint of the smart-meter scenario
// (lib/surveys/cloud-server.ts). Gateways connect over TCP and send batches;
// each new batch goes out as one message, then the gateway is answered
// "Surveys received <id>". A batch sent again is confirmed, not sent twice.
// With a history store, the batch's readings are stored (on disk) before it
// is confirmed, so a crash right after the answer loses nothing.
import path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { FieldTyping } from '../../lib/history/field-types';
import { ReadingConverter } from '../../lib/history/readings';
import { batchBody } from '../../lib/surveys/batch';
import { storeBatch } from '../../lib/surveys/batch-readings';
import { ReceivedBatch, SurveyCloudServer } from '../../lib/surveys/cloud-server';
import { DEFAULT_CLOUD_PORT } from '../../lib/surveys/defaults';
import { SeenIds } from '../../lib/surveys/seen-ids';
import { errorMessage } from '../../lib/util/log';
import { nodeLogger } from '../shared/node-logger';
import { nodeFolder, portProperty, property } from '../shared/properties';
import { userDirOf } from '../shared/user-dir';
import type { HistoryStoreNode } from '../history-store/history-store-node';

interface SurveyCloudDef extends NodeDef {
  host: string;
  port: string;
  /** A history-store id, or '' to leave storing to the flow. */
  store?: string;
  measurement?: string;
}

/** Survey times are the meter's clock: a little ahead of ours is fine. */
const MAX_FUTURE_MS = 60 * 60_000;

export = function (RED: NodeAPI) {
  function SurveyCloudNode(this: Node, def: SurveyCloudDef) {
    RED.nodes.createNode(this, def);
    let server: SurveyCloudServer | undefined;
    let seen: SeenIds | undefined;
    let closing = false;
    let listening = '';

    let shown = '';
    const showState = () => {
      if (!server) return;
      const { batches, duplicates, connections } = server.stats;
      const text = RED._('survey-cloud.status.counts', { listening, batches, duplicates });
      const shape = connections > 0 ? 'dot' : 'ring';
      // Polled: only a change goes to the editor.
      if (`${shape} ${text}` === shown) return;
      shown = `${shape} ${text}`;
      this.status({ fill: 'green', shape, text });
    };

    /** Stores a batch's readings before it is confirmed, when a store is set. */
    let store: ((batch: ReceivedBatch) => Promise<unknown>) | undefined;
    const storeNode = def.store
      ? (RED.nodes.getNode(def.store) as HistoryStoreNode | null)
      : undefined;

    const starting = (async () => {
      if (storeNode === null)
        throw new Error(`${RED._('survey-cloud.errors.noStore')}: ${def.store}`);
      if (storeNode) {
        const history = await storeNode.history();
        const converter = new ReadingConverter({
          measurement: property(def.measurement, 'survey'),
          typing: new FieldTyping({}, history.learnedTypes),
          precision: storeNode.precision,
          maxFutureMs: MAX_FUTURE_MS,
        });
        store = (batch) => storeBatch(history.writer, converter, batch, this, Date.now());
      }
      const host = property(def.host, '127.0.0.1');
      const port = portProperty(def.port, DEFAULT_CLOUD_PORT, RED._('survey-cloud.label.port'));
      const userDir = userDirOf(RED);
      seen = await SeenIds.open({
        file: path.join(userDir, 'surveys', `cloud-${nodeFolder(this.id)}`, 'batch-ids'),
      });
      const ids = seen;
      server = await SurveyCloudServer.listen({
        host,
        port,
        seen: ids,
        logger: nodeLogger(this),
        name: this.id,
        onBatch: async (batch) => {
          // Stored (on disk) first when a store is set: then it may be
          // confirmed even if the node stops now. Without one, the flow is
          // where it goes, so a stopping node must not confirm it. Either
          // failure leaves the batch with the gateway.
          if (store) await store(batch);
          else if (closing) throw new Error(RED._('survey-cloud.errors.closing'));
          this.send({
            topic: 'surveys',
            payload: batchBody(batch.lines),
            batchId: batch.id,
            receivedAt: batch.receivedAt,
            gateway: batch.gateway,
            count: batch.lines.length,
          });
          this.debug(
            RED._('survey-cloud.log.received', {
              count: batch.lines.length,
              gateway: batch.gateway,
              id: batch.id,
            }),
          );
        },
      }).catch(async (err: unknown) => {
        await ids.close();
        throw err;
      });
      listening = `${host}:${server.port}`;
      this.log(RED._('survey-cloud.log.listening', { listening }));
      showState();
    })();
    starting.catch((err: unknown) => {
      this.error(`${RED._('survey-cloud.errors.start')}: ${errorMessage(err)}`);
      this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
    });
    const ticker = setInterval(showState, 2000);
    ticker.unref();

    this.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      clearInterval(ticker);
      starting
        .then(async () => {
          await server?.close();
          await seen?.close();
        })
        .catch(() => undefined)
        .then(() => done());
    });
  }
  RED.nodes.registerType('survey-cloud', SurveyCloudNode);
};

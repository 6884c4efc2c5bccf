// survey-cloud: the cloud endpoint of the smart-meter scenario
// (lib/surveys/cloud-server.ts). Gateways connect over TCP and send batches;
// each new batch goes out as one message, then the gateway is answered
// "Surveys received <id>". A batch sent again is confirmed, not sent twice.
import path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { batchBody } from '../../lib/surveys/batch';
import { SurveyCloudServer } from '../../lib/surveys/cloud-server';
import { DEFAULT_CLOUD_PORT } from '../../lib/surveys/defaults';
import { SeenIds } from '../../lib/surveys/seen-ids';
import { errorMessage } from '../../lib/util/log';
import { nodeLogger } from '../shared/node-logger';
import { nodeFolder, portProperty, property } from '../shared/properties';
import { userDirOf } from '../shared/user-dir';

interface SurveyCloudDef extends NodeDef {
  host: string;
  port: string;
}

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

    const starting = (async () => {
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
        onBatch: (batch) => {
          // A node being stopped must not confirm what its flow will not see.
          if (closing) throw new Error(RED._('survey-cloud.errors.closing'));
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

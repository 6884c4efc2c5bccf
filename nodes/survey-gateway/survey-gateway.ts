// survey-gateway: the smart-meter gateway (lib/surveys/gateway.ts). Meters
// send their surveys over UDP; each batch is kept on disk before the meter
// is answered "Surveys arrived", then forwarded over TCP to a survey-cloud
// node, which confirms it by id. Batches can also come in as messages.
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { batchBody, surveyText } from '../../lib/surveys/batch';
import { tcpCloud } from '../../lib/surveys/cloud-link';
import { DEFAULT_BACKOFF, ForwarderEvent, ForwarderState } from '../../lib/surveys/forwarder';
import { SurveyGateway } from '../../lib/surveys/gateway';
import { describeProblems } from '../../lib/surveys/survey-line';
import { DEFAULT_CLOUD_PORT, DEFAULT_UDP_PORT } from '../../lib/surveys/defaults';
import { systemClock } from '../../lib/util/clock';
import { errorMessage } from '../../lib/util/log';
import { nodeLogger } from '../shared/node-logger';
import { countProperty, nodeFolder, portProperty, property } from '../shared/properties';
import { userDirOf } from '../shared/user-dir';

interface SurveyGatewayDef extends NodeDef {
  host: string;
  port: string;
  cloudHost: string;
  cloudPort: string;
  maxBatches: string;
  confirmTimeout: string;
  retryMax: string;
}

type BatchMessage = NodeMessageInFlow & { ip?: unknown; badLines?: unknown };

export = function (RED: NodeAPI) {
  function SurveyGatewayNode(this: Node, def: SurveyGatewayDef) {
    RED.nodes.createNode(this, def);
    let gateway: SurveyGateway | undefined;
    let listening = '';

    const showState = () => {
      if (!gateway) return;
      const { pending, failures, lastError } = gateway.state();
      if (failures > 0) {
        this.status({
          fill: 'red',
          shape: 'ring',
          text: RED._('survey-gateway.status.unreachable', { pending, error: lastError ?? '' }),
        });
      } else {
        this.status({
          fill: pending > 0 ? 'yellow' : 'green',
          shape: 'dot',
          text: RED._('survey-gateway.status.pending', { pending, listening }),
        });
      }
    };

    const starting = (async () => {
      const listen = {
        host: property(def.host, '0.0.0.0'),
        port: portProperty(def.port, DEFAULT_UDP_PORT, RED._('survey-gateway.label.port')),
      };
      const cloud = {
        host: property(def.cloudHost, '127.0.0.1'),
        port: portProperty(
          def.cloudPort,
          DEFAULT_CLOUD_PORT,
          RED._('survey-gateway.label.cloudPort'),
        ),
      };
      const userDir = userDirOf(RED);
      gateway = await SurveyGateway.start({
        listen,
        cloud: tcpCloud(cloud),
        queueDir: path.join(userDir, 'surveys', `gateway-${nodeFolder(this.id)}`),
        maxBatches: countProperty(
          def.maxBatches,
          10_000,
          1,
          RED._('survey-gateway.label.maxBatches'),
        ),
        confirmTimeoutMs:
          countProperty(def.confirmTimeout, 10, 1, RED._('survey-gateway.label.confirmTimeout')) *
          1000,
        backoff: {
          ...DEFAULT_BACKOFF,
          maxMs: countProperty(def.retryMax, 10, 1, RED._('survey-gateway.label.retryMax')) * 1000,
        },
        clock: systemClock,
        logger: nodeLogger(this),
        name: this.id,
        onKept: (batch) => {
          this.send([
            {
              topic: 'arrived',
              payload: batchBody(batch.lines),
              batchId: batch.id,
              receivedAt: batch.receivedAt,
              source: batch.source,
              count: batch.lines.length,
            },
            null,
          ]);
          showState();
        },
        onBadLines: (sender, errors, text) => {
          this.error(describeProblems(errors), {
            payload: text,
            ip: sender.ip,
            port: sender.port,
            badLines: errors,
          });
        },
        onEvent: (event, state) => {
          this.send([null, eventMessage(event, state)]);
          showState();
        },
      });
      listening = `udp ${listen.host}:${gateway.udpPort}`;
      this.log(
        RED._('survey-gateway.log.listening', { listening, cloud: `${cloud.host}:${cloud.port}` }),
      );
      showState();
    })();
    starting.catch((err: unknown) => {
      this.error(`${RED._('survey-gateway.errors.start')}: ${errorMessage(err)}`);
      this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
    });

    const eventMessage = (event: ForwarderEvent, state: ForwarderState) => {
      const payload: Record<string, unknown> = { event: event.event, pending: state.pending };
      if (event.event === 'forwarded' || event.event === 'refused') {
        payload.batchId = event.batch.id;
        payload.count = event.batch.lines.length;
      }
      if (event.event === 'refused') payload.reason = event.reason;
      if (event.event === 'unreachable') payload.error = event.error;
      return { topic: event.event, payload };
    };

    this.on('input', async (msg: BatchMessage, _send, done) => {
      try {
        await starting;
        const text = surveyText(msg.payload);
        if (text === undefined) throw new Error(RED._('survey-gateway.errors.payload'));
        const ip = typeof msg.ip === 'string' ? msg.ip : '';
        // The node reports the bad lines of datagrams itself; a message's go to done().
        const result = await gateway!.accept(text, { ip });
        if (result.errors.length > 0) {
          msg.badLines = result.errors;
          throw new Error(describeProblems(result.errors));
        }
        if (result.status === 'nothing') throw new Error(RED._('survey-gateway.errors.empty'));
        done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(errorMessage(err)));
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      starting
        .then(() => gateway?.stop())
        .catch(() => undefined)
        .then(() => done());
    });
  }
  RED.nodes.registerType('survey-gateway', SurveyGatewayNode);
};

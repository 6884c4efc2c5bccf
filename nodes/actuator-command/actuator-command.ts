// actuator-command: sends an order to actuators and reports, once per
// command, whether they obeyed (output 1), with what they echoed (output 2).
// The glue resolves the registry (store, devices, orders, credentials), the
// core mqtt-broker node and/or an eot-server, and hands over to the command
// service (lib/commands).
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { clusterFor } from '../../lib/cluster/shared';
import { clusterMetrics } from '../../lib/cluster/metrics';
import { CommandLedger } from '../../lib/commands/ledger';
import { EotCommandTransport } from '../../lib/commands/eot-transport';
import { commandTopic, MqttCommandTransport } from '../../lib/commands/mqtt-transport';
import { registryCatalog } from '../../lib/commands/registry-catalog';
import { commandRequest, RequestDefaults } from '../../lib/commands/request';
import { CommandService } from '../../lib/commands/service';
import { transportsByTarget } from '../../lib/commands/transport';
import { CommandResult, Incoming } from '../../lib/commands/types';
import { UnitResolver } from '../../lib/commands/units';
import { TopicCodec } from '../../lib/topics/topic';
import { errorMessage } from '../../lib/util/log';
import { DEFAULT_SITE } from '../../settings';
import { nodeLogger } from '../shared/node-logger';
import type { EotServerConfigNode } from '../eot-server/eot-server-node';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';
import { coreBrokerLink, CoreBrokerLink, CoreMqttBroker } from './broker-link';

interface ActuatorCommandDef extends NodeDef {
  registry: string;
  broker: string;
  eot: string;
  base: string;
  kind: string;
  order: string;
  dest: string;
  customer: string;
  ackTimeout: string | number;
  attempts: string | number;
  ttl: string | number;
  queueLimit: string | number;
}

type Send = (msg: Array<NodeMessage | null>) => void;
/** What a live command reports back to: the message that asked for it. */
interface Asker {
  msg: NodeMessageInFlow;
  send: Send;
  done: (err?: Error) => void;
}

type CommandMessage = NodeMessageInFlow & { target?: unknown; idempotencyKey?: unknown };

export = function (RED: NodeAPI) {
  function ActuatorCommandNode(this: Node, def: ActuatorCommandDef) {
    RED.nodes.createNode(this, def);
    const registryNode = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    const brokerNode = RED.nodes.getNode(def.broker) as unknown as CoreMqttBroker | null;
    const eotNode = RED.nodes.getNode(def.eot) as unknown as EotServerConfigNode | null;
    const codec = new TopicCodec(RED.util.getSetting(this, 'SENSFLOW_SITE') || DEFAULT_SITE);
    const defaults: RequestDefaults = {
      target: { base: def.base?.trim(), kind: def.kind?.trim() },
      order: def.order?.trim() || undefined,
      dest: def.dest?.trim() || undefined,
    };
    let link: CoreBrokerLink | undefined;
    let service: CommandService<Asker> | undefined;
    let unwatch: (() => void) | undefined;

    const showStatus = () => {
      // Without a broker (EOT only) the server queues for offline devices itself.
      if (link && !link.isConnected()) {
        const waiting = service?.waiting ?? 0;
        this.status({
          fill: 'red',
          shape: 'ring',
          text: waiting > 0 ? `broker down, ${waiting} waiting` : 'broker down',
        });
      } else {
        const pending = service?.pending ?? 0;
        this.status({
          fill: 'green',
          shape: pending > 0 ? 'ring' : 'dot',
          text: pending > 0 ? `${pending} pending` : 'ready',
        });
      }
    };

    const onResult = (result: CommandResult, asker: Asker | undefined) => {
      if (asker) {
        asker.msg.payload = result;
        asker.send([asker.msg, null]);
        asker.done();
      } else {
        // Resumed after a restart: the asking message is gone.
        const topic = result.target.transport === 'mqtt' ? commandTopic(result.target) : undefined;
        this.send([{ topic, payload: result }, null]);
      }
      showStatus();
    };
    const onMessage = (m: Incoming) => {
      this.send([
        null,
        { topic: m.topic, payload: m.payload, commandId: m.commandId } as NodeMessage,
      ]);
    };

    const starting: Promise<CommandService<Asker>> = (async () => {
      if (!registryNode) throw new Error(RED._('actuator-command.errors.no-registry'));
      if (!brokerNode && !eotNode) throw new Error(RED._('actuator-command.errors.no-transport'));
      if (brokerNode) link = coreBrokerLink(brokerNode, this.id, showStatus);
      const [store, directory, registry, eotServer] = await Promise.all([
        registryNode.store(),
        registryNode.directory(),
        registryNode.registry(),
        eotNode?.server(),
      ]);
      // With several instances, each runs its own commands: the same node on a
      // lost instance hands its open commands to whichever instance takes them first.
      const cluster = clusterFor(store);
      const owner = cluster ? `${this.id}@${cluster.id}` : this.id;
      const started = new CommandService<Asker>({
        owner,
        ledger: new CommandLedger(store.db),
        transport: transportsByTarget({
          mqtt: link && new MqttCommandTransport(link),
          eot: eotServer && new EotCommandTransport(eotServer),
        }),
        units: new UnitResolver(
          directory,
          registryCatalog(registry.types),
          def.customer?.trim() || undefined,
        ),
        credentials: registry,
        logger: nodeLogger(this),
        options: {
          ackTimeoutMs: number(def.ackTimeout, 10) * 1000,
          maxAttempts: Math.max(1, Math.round(number(def.attempts, 3))),
          ttlMs: number(def.ttl, 300) * 1000,
          queueLimit: Math.max(1, Math.round(number(def.queueLimit, 1000))),
        },
        events: { result: onResult, message: onMessage },
      });
      await started.start();
      service = started;
      if (cluster) {
        const adopt = (from: string) =>
          started.adopt(from).then(
            (n) => n > 0 && clusterMetrics.takenOver.inc({ kind: 'command' }, n),
            (err: unknown) => this.warn(`commands of ${from}: ${errorMessage(err)}`),
          );
        // Commands recorded before this server ran as one of several.
        await adopt(this.id);
        unwatch = cluster.onMembership((event) => {
          if (event.kind === 'lost') void adopt(`${this.id}@${event.id}`).then(showStatus);
        });
      }
      showStatus();
      return started;
    })();
    starting.catch((err: unknown) => {
      this.error(errorMessage(err));
      this.status({ fill: 'red', shape: 'ring', text: 'actuator-command.status.error' });
    });

    this.on('input', async (input, send, done) => {
      const msg = input as CommandMessage;
      try {
        const commands = await starting;
        const request = commandRequest(msg, defaults, codec);
        const { result, duplicate } = await commands.submit(request, { msg, send, done });
        if (duplicate) {
          msg.payload = result;
          send([msg, null]);
          done();
        }
        showStatus();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: 'actuator-command.status.refused' });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    this.on('close', (removed: boolean, done: () => void) => {
      (async () => {
        // Open commands stay in the ledger: the node that comes back resumes them.
        unwatch?.();
        if (removed) await service?.abandon();
        await service?.close();
        await link?.close(removed);
      })().then(done, (err: unknown) => {
        this.warn(errorMessage(err));
        done();
      });
    });
  }

  RED.nodes.registerType('actuator-command', ActuatorCommandNode);
};

function number(value: string | number | undefined, fallback: number): number {
  const n = typeof value === 'number' ? value : Number(String(value ?? '').trim() || NaN);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

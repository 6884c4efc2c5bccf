// Config node: an EOT device server (eot-protocol.md) on a port, with TLS,
// separator, login modes and limits from the editor, and devices from a
// sensflow-registry node. It owns the listeners; eot-in and eot-out use it.
import type { NodeAPI, NodeDef } from 'node-red';
import { clusterFor } from '../../lib/cluster/shared';
import { EotServer } from '../../lib/eot/server';
import { errorMessage } from '../../lib/util/log';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';
import { EotServerConfigNode, EotServerFields, optionsFromFields } from './eot-server-node';

interface EotServerDef extends NodeDef, EotServerFields {
  registry: string;
  tls: string;
}

interface TlsConfigNode {
  addTLSOptions(options: Record<string, unknown>): Record<string, unknown>;
}

export = function (RED: NodeAPI) {
  function EotServerNode(this: EotServerConfigNode, def: EotServerDef) {
    RED.nodes.createNode(this, def);
    const logger = {
      error: (m: string) => this.error(m),
      warn: (m: string) => this.warn(m),
      info: (m: string) => this.log(m),
      debug: (m: string) => this.debug(m),
    };
    const starting: Promise<EotServer> = (async () => {
      const registryNode = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
      if (!registryNode) throw new Error(RED._('eot-server.errors.noRegistry'));
      let tls: Record<string, unknown> | undefined;
      if (def.tls) {
        const tlsNode = RED.nodes.getNode(def.tls) as unknown as TlsConfigNode | null;
        if (!tlsNode) throw new Error(RED._('eot-server.errors.noTls'));
        tls = tlsNode.addTLSOptions({});
      }
      const options = optionsFromFields(def, tls);
      const [directory, store] = await Promise.all([
        registryNode.directory(),
        registryNode.store(),
      ]);
      // One of several instances: devices on the others are reached over the bus.
      const view = clusterFor(store);
      const cluster = view && { view, serverId: this.id };
      const server = new EotServer(options, { directory, db: store.db, logger, cluster });
      const ports = await server.start();
      this.log(RED._('eot-server.log.listening', { ports: describePorts(ports) }));
      return server;
    })();
    starting.catch((err: unknown) =>
      this.error(RED._('eot-server.errors.start', { error: errorMessage(err) })),
    );
    this.server = () => starting;
    this.on('close', (_removed: boolean, done: () => void) => {
      starting.then((server) => server.stop()).then(done, done);
    });
  }
  RED.nodes.registerType('eot-server', EotServerNode);
};

function describePorts(ports: { port?: number; tlsPort?: number }): string {
  return [ports.port && `${ports.port}`, ports.tlsPort && `${ports.tlsPort} (TLS)`]
    .filter(Boolean)
    .join(', ');
}

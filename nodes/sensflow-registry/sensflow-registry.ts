// Config node: which store the registry lives in (the server's own by
// default). It holds one shared handle on that store, and the registry on it,
// for the nodes that use it.
import type { NodeAPI, NodeDef } from 'node-red';
import { registryFor } from '../../lib/registry/shared';
import { credentialSecretFor } from '../../lib/security/credential-secret';
import { acquireStore, StoreHandle } from '../../lib/store/shared';
import { storeSpecFrom, StoreConfig } from '../../lib/store/spec';
import type { RegistryConfigNode } from './registry-node';
import { userDirOf } from '../shared/user-dir';

interface RegistryDef extends NodeDef {
  store: string;
  file: string;
}

export = function (RED: NodeAPI) {
  const userDir = () => userDirOf(RED);

  function SensflowRegistryNode(this: RegistryConfigNode, def: RegistryDef) {
    RED.nodes.createNode(this, def);
    const config: StoreConfig = { store: def.store, file: def.file, url: this.credentials?.url };
    const opening: Promise<StoreHandle> = (async () => {
      const spec = storeSpecFrom(config, userDir());
      return acquireStore(spec);
    })();
    opening.catch((err: unknown) =>
      this.error(RED._('sensflow-registry.errors.open', { error: String(err) })),
    );
    this.store = async () => (await opening).store;
    this.registry = async () => {
      return registryFor(await this.store(), credentialSecretFor(userDir()), RED.log);
    };
    this.directory = this.registry;
    this.on('close', (_removed: boolean, done: () => void) => {
      opening.then((h) => h.release()).then(done, done);
    });
  }
  RED.nodes.registerType<RegistryConfigNode, RegistryDef, object, { url?: string }>(
    'sensflow-registry',
    SensflowRegistryNode,
    {
      credentials: { url: { type: 'password' } },
    },
  );
};

// What the sensflow-registry config node offers the nodes that use it.
import type { Node } from 'node-red';
import type { DeviceDirectory } from '../../lib/registry/directory';
import type { Registry } from '../../lib/registry/registry';
import type { Store } from '../../lib/store/store';

export interface RegistryConfigNode extends Node<{ url?: string }> {
  /** The open store; rejects with the reason when it cannot be opened. */
  store(): Promise<Store>;
  /** The device registry on that store (one per store in the process). */
  registry(): Promise<Registry>;
  /** The registry as transports see it. */
  directory(): Promise<DeviceDirectory>;
}

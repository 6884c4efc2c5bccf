// What the sensflow-registry config node offers the nodes that use it.
import type { Node } from 'node-red';
import { Store } from '../../lib/store/store';

export interface RegistryConfigNode extends Node<{ url?: string }> {
  /** The open store; rejects with the reason when it cannot be opened. */
  store(): Promise<Store>;
}

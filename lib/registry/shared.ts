// One Registry per open store in the process, so the launcher's APIs, the
// broker's access rules and every node see one change feed and one
// last-seen writer. It closes (flushing what it holds) with its store.
import type { Store } from '../store/store';
import type { Logger } from '../util/log';
import { Registry } from './registry';

const registries = new WeakMap<Store, Registry>();

export function registryFor(store: Store, credentialSecret: string, logger?: Logger): Registry {
  let registry = registries.get(store);
  if (!registry) {
    const created = new Registry(store.db, { credentialSecret, logger });
    store.onClose(() => created.close());
    registries.set(store, created);
    registry = created;
  }
  return registry;
}

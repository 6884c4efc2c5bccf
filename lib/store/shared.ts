// One open store per location, shared by everything in the process: the
// launcher, every config node and every service. Handles are reference
// counted, so a redeploy that closes one node does not close the store under
// the others.
import path from 'node:path';
import { openStore, Store, StoreSpec } from './store';

interface Entry {
  opening: Promise<Store>;
  refs: number;
}

const entries = new Map<string, Entry>();
let defaultSpec: StoreSpec | undefined;

export interface StoreHandle {
  readonly store: Store;
  /** Drops this reference; the last one closes the store. Idempotent. */
  release(): Promise<void>;
}

export function specKey(spec: StoreSpec): string {
  return spec.kind === 'sqlite' ? `sqlite:${path.resolve(spec.file)}` : `mysql:${spec.url}`;
}

/** Set by the launcher: the store that "default" means in this process. */
export function setDefaultStoreSpec(spec: StoreSpec | undefined): void {
  defaultSpec = spec;
}

/** The default store: the launcher's, or an SQLite file in `userDir` when
 *  Sensflow's nodes run inside a stock Node-RED. */
export function defaultStoreSpec(userDir: string): StoreSpec {
  return defaultSpec ?? { kind: 'sqlite', file: path.join(userDir, 'sensflow.db') };
}

export async function acquireStore(spec: StoreSpec): Promise<StoreHandle> {
  const key = specKey(spec);
  let entry = entries.get(key);
  if (!entry) {
    entry = { opening: openStore(spec), refs: 0 };
    entries.set(key, entry);
    // A failed open must not stay cached: the next caller tries again.
    entry.opening.catch(() => entries.delete(key));
  }
  entry.refs += 1;
  const held = entry;
  let store: Store;
  try {
    store = await held.opening;
  } catch (err) {
    held.refs -= 1;
    throw err;
  }
  let released = false;
  return {
    store,
    release: async () => {
      if (released) return;
      released = true;
      held.refs -= 1;
      if (held.refs === 0 && entries.get(key) === held) {
        entries.delete(key);
        await store.close();
      }
    },
  };
}

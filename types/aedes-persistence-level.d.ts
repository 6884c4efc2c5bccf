// aedes-persistence-level ships no types: it builds an aedes persistence on a Level database.
declare module 'aedes-persistence-level' {
  import type { AbstractLevel } from 'abstract-level';
  function persistence(db: AbstractLevel<string | Buffer | Uint8Array, string, unknown>): unknown;
  export = persistence;
}

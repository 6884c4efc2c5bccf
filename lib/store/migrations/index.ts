// Every schema change, in order. A migration's name is its version: they run
// sorted by name, each once, recorded in the store (Kysely's migration table).
// Never edit a migration that has shipped; add the next one.
import { Migration } from 'kysely';
import * as core from './0001_core';

export const migrations: Record<string, Migration> = {
  '0001_core': core,
};

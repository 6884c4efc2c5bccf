// Every schema change, in order. A migration's name is its version: they run
// sorted by name, each once, recorded in the store (Kysely's migration table).
// Never edit a migration that has shipped; add the next one.
//
// Each domain numbers its migrations in a range of its own, so work on two
// domains never collides: 0001-0099 core, 0100 registry, 0200 EOT, 0300
// commands, 0400 alarms, 0500 history, 0600 scale-out.
import { Migration } from 'kysely';
import * as core from './0001_core';
import * as registry from './0100_registry';
import * as eot from './0200_eot';
import * as commands from './0300_commands';
import * as alarms from './0400_alarms';
import * as history from './0500_history';
import * as historyRetention from './0501_history_retention';
import * as scaleOut from './0600_scale_out';

export const migrations: Record<string, Migration> = {
  '0001_core': core,
  '0100_registry': registry,
  '0200_eot': eot,
  '0300_commands': commands,
  '0400_alarms': alarms,
  '0500_history': history,
  '0501_history_retention': historyRetention,
  '0600_scale_out': scaleOut,
};

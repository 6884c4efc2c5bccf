// Table types of the shared store, as Kysely sees them. Each domain declares
// its tables in a schema file of its own and adds it to `Database` here, with
// a migration that creates them (migrations/).
//
// Portable conventions, so one query runs on SQLite and MySQL/MariaDB alike:
// times are epoch milliseconds in BIGINT columns, JSON is TEXT, booleans are
// 0/1 integers, identifiers are VARCHAR (MySQL cannot index plain TEXT).
import type { AlarmTables } from '../alarms/schema';
import type { ClusterTables } from '../cluster/schema';
import type { CommandTables } from '../commands/schema';
import type { EotTables } from '../eot/schema';
import type { HistoryTables } from '../history/schema';
import type { RegistryTables } from '../registry/schema';

/** Facts about the store itself (e.g. when it was created). */
export interface MetaTable {
  key: string;
  value: string;
}

export interface CoreTables {
  sensflow_meta: MetaTable;
}

export type Database = CoreTables &
  RegistryTables &
  EotTables &
  CommandTables &
  AlarmTables &
  HistoryTables &
  ClusterTables;

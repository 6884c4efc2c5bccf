// Tables of the embedded history (migration 0500_history). A point with n
// fields is n rows of history_points; (series, field, time) is the key, so a
// point written twice is stored once, as in InfluxDB.
import { Generated } from 'kysely';

/** One row per measurement and tag set. */
export interface HistorySeriesTable {
  id: Generated<number>;
  measurement: string;
  /** sha256 of the series key (measurement and sorted tags), unique. */
  series_hash: string;
  series_key: string;
  /** The tags as a JSON object. */
  tags: string;
}

/** The type of each field of a measurement, fixed by its first write. */
export interface HistoryFieldsTable {
  measurement: string;
  field: string;
  type: string;
}

export interface HistoryPointsTable {
  series_id: number;
  field: string;
  /** Epoch ms. */
  time: number;
  /** Floats, integers, and booleans as 1/0. */
  num: number | null;
  /** String fields. */
  str: string | null;
}

export interface HistoryTables {
  history_series: HistorySeriesTable;
  history_fields: HistoryFieldsTable;
  history_points: HistoryPointsTable;
}

// What devices report to the server: scheduled EVENTs and raised ALARMs,
// stored with the device, its customer and the time they arrived.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';

export interface DeviceReport {
  id: number;
  deviceId: string;
  customerId: string;
  name: string;
  /** EVENT data or ALARM value, as sent. */
  value: string;
  at: number;
}

export interface ReportFilter {
  customerId?: string;
  deviceId?: string;
  name?: string;
  since?: number;
  limit?: number;
}

type Kind = 'event' | 'alarm';

export class DeviceLog {
  constructor(private readonly db: Kysely<Database>) {}

  async record(kind: Kind, report: Omit<DeviceReport, 'id'>): Promise<DeviceReport> {
    const base = {
      device_id: report.deviceId,
      customer_id: report.customerId,
      name: report.name,
      at: report.at,
    };
    const result =
      kind === 'event'
        ? await this.db
            .insertInto('device_events')
            .values({ ...base, data: report.value })
            .executeTakeFirst()
        : await this.db
            .insertInto('device_alarms')
            .values({ ...base, value: report.value })
            .executeTakeFirst();
    return { id: Number(result.insertId), ...report };
  }

  /** The newest reports first. */
  async list(kind: Kind, filter: ReportFilter = {}): Promise<DeviceReport[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    if (kind === 'event') {
      let q = this.db.selectFrom('device_events').selectAll();
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      if (filter.deviceId) q = q.where('device_id', '=', filter.deviceId);
      if (filter.name) q = q.where('name', '=', filter.name);
      if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
      const rows = await q.orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r) => toReport(r, r.data));
    }
    let q = this.db.selectFrom('device_alarms').selectAll();
    if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
    if (filter.deviceId) q = q.where('device_id', '=', filter.deviceId);
    if (filter.name) q = q.where('name', '=', filter.name);
    if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
    const rows = await q.orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => toReport(r, r.value));
  }
}

function toReport(
  row: { id: number; device_id: string; customer_id: string; name: string; at: number },
  value: string,
): DeviceReport {
  return {
    id: Number(row.id),
    deviceId: row.device_id,
    customerId: row.customer_id,
    name: row.name,
    value,
    at: Number(row.at),
  };
}

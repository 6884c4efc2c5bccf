// The checked columns of a device row besides its identity and secrets: the
// type and customer must exist (read in the caller's transaction), the
// location must be a base topic, the config must pass its type's schema.
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema';
import type { UidType } from './directory';
import { invalid } from './errors';
import * as check from './validation';

export interface DeviceFieldsInput {
  type: string;
  customerId: string;
  location: string;
  uidType?: UidType;
  uid?: string | null;
  description?: string;
  config?: unknown;
  outdatedAfterMs?: number | null;
}

export async function checkedDeviceFields(trx: Transaction<Database>, input: DeviceFieldsInput) {
  const uidType = check.checkUidType(input.uidType);
  const type = check.checkTypeName(input.type);
  const customerId = check.checkId('customerId', input.customerId);
  const typeRow = await trx
    .selectFrom('device_types')
    .select(['name', 'config_schema'])
    .where('name', '=', type)
    .executeTakeFirst();
  if (!typeRow) throw invalid('type', `unknown device type ${type}`);
  const customer = await trx
    .selectFrom('customers')
    .select('id')
    .where('id', '=', customerId)
    .executeTakeFirst();
  if (!customer) throw invalid('customerId', `unknown customer ${customerId}`);
  const config = check.checkJsonObject('config', input.config);
  check.checkConfigAgainst(typeRow.config_schema, JSON.parse(config));
  return {
    uid_type: uidType,
    uid: check.normalizeUid(uidType, input.uid),
    type,
    customer_id: customerId,
    description: check.checkText('description', input.description, 1024),
    location: check.checkLocation(input.location),
    config,
    outdated_after_ms: check.checkThreshold('outdatedAfterMs', input.outdatedAfterMs),
  };
}

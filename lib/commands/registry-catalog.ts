// The registry's device types as an OrderCatalog: the orders each type's
// modules accept (DeviceTypes.orders), read once per check.
import type { DeviceType } from '../registry/device-types';
import type { OrderCatalog } from './orders';

export function registryCatalog(types: { list(): Promise<DeviceType[]> }): OrderCatalog {
  return {
    async ordersOf(deviceType) {
      const type = (await types.list()).find((t) => t.name === deviceType);
      return type?.orders ?? null;
    },
  };
}

// Which orders a kind of module accepts. A device type in the registry may
// list them per kind (`{"shutter": ["up", "down", "stop"]}`); a list entry
// `min-max` accepts a numeric level in that range. Types without a list fall
// back to the orders topics.md gives, and kinds it does not name take any order.
import { CommandError, OrderValue } from './types';

/** topics.md: shutter up/down/stop, lighting on/off or 0-100; the device itself reboot/reinstall. */
export const BUILT_IN_ORDERS: Readonly<Record<string, readonly string[]>> = {
  shutter: ['up', 'down', 'stop'],
  lighting: ['on', 'off', '0-100'],
  device: ['reboot', 'reinstall'],
};

/** The registry's view: a device type's orders per kind, or null when it keeps no list. */
export interface OrderCatalog {
  ordersOf(deviceType: string): Promise<Record<string, readonly string[]> | null>;
}

const RANGE = /^(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?)$/;

/** Checks an order's form: a short name or a finite number. */
export function checkOrder(value: unknown): OrderValue {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CommandError(`order ${value} is not a finite number`);
    return value;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new CommandError(
      `order must be a name or a number, got ${value === '' ? 'an empty string' : typeof value}`,
    );
  }
  if (value.length > 64 || /[\u0000-\u001f|]/.test(value)) {
    throw new CommandError(
      `order "${value.slice(0, 64)}" must be at most 64 characters, without control characters or |`,
    );
  }
  return value;
}

/** True when `order` is one of `allowed` (names, or `min-max` level ranges). */
export function orderAllowed(order: OrderValue, allowed: readonly string[]): boolean {
  const level =
    typeof order === 'number' ? order : /^-?\d+(\.\d+)?$/.test(order) ? Number(order) : NaN;
  return allowed.some((entry) => {
    if (entry === String(order)) return true;
    const range = RANGE.exec(entry);
    return range !== null && level >= Number(range[1]) && level <= Number(range[2]);
  });
}

/** The orders a unit of `kind` accepts, given its type's list (null: none kept).
 *  Undefined means any order; an empty list means the unit has no such module. */
export function ordersFor(
  kind: string,
  typeOrders: Record<string, readonly string[]> | null,
): readonly string[] | undefined {
  if (typeOrders) return typeOrders[kind] ?? (kind === 'device' ? BUILT_IN_ORDERS.device : []);
  return BUILT_IN_ORDERS[kind];
}

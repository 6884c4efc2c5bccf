// Who an order reaches, checked against the registry before anything is sent:
// the unit named by `dest` (or every unit of the kind at the base topic for
// `all`), each enabled, of the node's customer, and accepting the order.
import type { DeviceDirectory, DeviceInfo } from '../registry/directory';
import { OrderCatalog, orderAllowed, ordersFor } from './orders';
import { ALL_UNITS, CommandError, CommandRequest, targetKind } from './types';

export class UnitResolver {
  constructor(
    private readonly directory: DeviceDirectory,
    private readonly catalog?: OrderCatalog,
    /** When set, every unit reached must belong to this customer. */
    private readonly customerId?: string,
  ) {}

  /** The unit ids the request reaches; throws a CommandError saying why not. */
  async resolve(request: CommandRequest): Promise<string[]> {
    const { target, dest } = request;
    const kind = targetKind(target);
    const typeOrders = new Map<string, Record<string, readonly string[]> | null>();
    const allowedFor = async (device: DeviceInfo) => {
      if (!typeOrders.has(device.type)) {
        typeOrders.set(device.type, this.catalog ? await this.catalog.ordersOf(device.type) : null);
      }
      return ordersFor(kind, typeOrders.get(device.type)!);
    };

    if (target.transport === 'eot' || dest !== ALL_UNITS) {
      const id = target.transport === 'eot' ? target.deviceId : dest;
      const device = await this.directory.findDevice(id);
      if (!device) throw new CommandError(`no device "${id}" in the registry`);
      if (target.transport === 'mqtt' && device.location !== target.base) {
        throw new CommandError(`unit "${id}" is at ${device.location}, not at ${target.base}`);
      }
      this.checkCustomer([device]);
      if (!device.enabled) throw new CommandError(`device "${id}" is disabled`);
      const allowed = await allowedFor(device);
      if (allowed && allowed.length === 0) {
        throw new CommandError(`device "${id}" (type ${device.type}) has no ${kind} module`);
      }
      this.checkOrder(request, kind, [[device, allowed]]);
      return [id];
    }

    const here = await this.directory.devicesAt(target.base);
    const units: Array<[DeviceInfo, readonly string[] | undefined]> = [];
    for (const device of here.filter((d) => d.enabled)) {
      const allowed = await allowedFor(device);
      if (!allowed || allowed.length > 0) units.push([device, allowed]);
    }
    if (units.length === 0) {
      throw new CommandError(`no enabled unit of kind ${kind} at ${target.base} in the registry`);
    }
    // Everything subscribed to the command topic obeys `all`: one unit of
    // another customer there is enough to refuse.
    this.checkCustomer(units.map(([d]) => d));
    this.checkOrder(request, kind, units);
    return units.map(([d]) => d.id).sort();
  }

  private checkCustomer(devices: DeviceInfo[]): void {
    if (this.customerId === undefined) return;
    const foreign = devices.filter((d) => d.customerId !== this.customerId);
    if (foreign.length > 0) {
      throw new CommandError(
        `${foreign.map((d) => d.id).join(', ')} belong${foreign.length === 1 ? 's' : ''} to another customer than ${this.customerId}`,
      );
    }
  }

  private checkOrder(
    request: CommandRequest,
    kind: string,
    units: Array<[DeviceInfo, readonly string[] | undefined]>,
  ): void {
    for (const [device, allowed] of units) {
      if (allowed && !orderAllowed(request.order, allowed)) {
        throw new CommandError(
          `order "${request.order}" is unknown for ${kind} on ${device.id} (type ${device.type}): expected one of ${allowed.join(', ')}`,
        );
      }
    }
  }
}

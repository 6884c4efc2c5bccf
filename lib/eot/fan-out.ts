// Copies of frames for the devices that subscribed to them (SUB, UNSUB): an
// ALARM to the subscribers of its name, a READING to those whose condition it
// crosses into, whether it came from a device here or on another instance
// (remote-side.ts). Only subscribers here get a copy from this instance.
import { CodecOptions, encode, Frame } from './codec';
import type { EotCluster } from './cluster-link';
import type { Connection } from './connection';
import { countDropped } from './metrics';
import { Condition, Subscriptions } from './subscriptions';

export interface FanOutDeps {
  online: ReadonlyMap<string, Connection>;
  deliver(target: Connection, raw: Buffer, type: string): void;
  codec(): CodecOptions;
  cluster(): EotCluster | undefined;
}

export class FanOut {
  readonly subscriptions = new Subscriptions();

  constructor(private readonly deps: FanOutDeps) {}

  subscribe(conn: Connection, name: string, condition: Condition | undefined): void {
    this.subscriptions.subscribe(conn.customerId!, conn.id!, name, condition);
    // Other instances send a reading here only while a condition here asks for it.
    this.deps.cluster()?.interestChanged();
  }

  unsubscribe(conn: Connection, name: string): void {
    this.subscriptions.unsubscribe(conn.customerId!, conn.id!, name);
    this.deps.cluster()?.interestChanged();
  }

  /** The device's connection is gone: its subscriptions end with it. */
  forget(conn: Connection): void {
    if (this.subscriptions.removeAll(conn.customerId!, conn.id!))
      this.deps.cluster()?.interestChanged();
  }

  /** `customer\0sensor` of every conditional subscription here. */
  interest(): string[] {
    return this.subscriptions.conditionKeys();
  }

  /** An ALARM (from a device here or on another instance) to the subscribers here. */
  alarm(customer: string, frame: Frame): void {
    for (const subscriber of this.subscriptions.alarmSubscribers(customer, frame.fields[0]))
      this.forward(customer, subscriber, frame);
  }

  /** A READING (from here or another instance) to the subscribers here whose condition it crosses into. */
  crossings(customer: string, frame: Frame): void {
    const [sensor, value] = frame.fields;
    for (const subscriber of this.subscriptions.crossings(customer, frame.origin, sensor, value)) {
      if (subscriber !== frame.destination) this.forward(customer, subscriber, frame);
    }
  }

  /** Sends a copy of a device's frame to one subscriber of its customer. */
  private forward(customer: string, subscriber: string, frame: Frame): void {
    const target = this.deps.online.get(subscriber);
    if (!target || target.customerId !== customer) return;
    try {
      const bytes = encode({ ...frame, destination: subscriber }, this.deps.codec());
      this.deps.deliver(target, bytes, frame.type);
    } catch {
      countDropped('too_large');
    }
  }
}

// sensor-reading: a registered device's reading (after topic-segment and
// device-lookup), tagged with its customer for history and the alarm rules,
// and its point batched for the live charts. History and the rules get their
// own messages on outputs 1 and 2: Node-RED deep-copies a message for every
// destination after the first, and a small copy made here costs far less.
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { ChartBatch, ChartBatcher } from '../../lib/dashboard/chart-batch';
import { systemClock } from '../../lib/util/clock';

interface SensorReadingDef extends NodeDef {
  period: string | number;
}

interface Device {
  id: string;
  customerId: string;
}

type ReadingInput = NodeMessageInFlow & {
  device?: Device | null;
  devices?: Device[];
  segments?: { kind?: unknown; location?: unknown };
};

/** The reading's value: a number payload or the `value` of an object payload. */
function readingValue(payload: unknown): number | undefined {
  const value =
    payload !== null && typeof payload === 'object'
      ? (payload as { value?: unknown }).value
      : payload;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The device the reading is from: the one its payload names (unitID) among
 *  those at the base topic, else the one found, else the first at the base. */
function readingDevice(msg: ReadingInput): Device | undefined {
  const p = msg.payload;
  const named =
    p !== null && typeof p === 'object' ? (p as { unitID?: unknown }).unitID : undefined;
  if (named !== undefined && Array.isArray(msg.devices)) {
    const match = msg.devices.find((d) => d.id === named);
    if (match) return match;
  }
  return msg.device ?? msg.devices?.[0] ?? undefined;
}

export = function (RED: NodeAPI) {
  function SensorReadingNode(this: Node, def: SensorReadingDef) {
    RED.nodes.createNode(this, def);
    const seconds = def.period === undefined || def.period === '' ? 1 : Number(def.period);
    const setupError =
      seconds > 0 && seconds <= 3600 ? undefined : new Error(RED._('sensor-reading.errors.period'));
    if (setupError) this.status({ fill: 'red', shape: 'ring', text: setupError.message });
    const charts = new ChartBatcher(systemClock, seconds * 1000, (batches: ChartBatch[]) => {
      for (const b of batches) {
        this.send([
          null,
          null,
          { topic: b.customer, kind: b.kind, _customer: b.customer, payload: b.points },
        ] as unknown as NodeMessage[]);
      }
    });
    this.on('close', (_removed: boolean, closed: () => void) => {
      charts.close();
      closed();
    });

    this.on('input', (input, send, done) => {
      const msg = input as ReadingInput;
      try {
        if (setupError) throw setupError;
        const segments = msg.segments;
        if (
          segments === null ||
          typeof segments !== 'object' ||
          typeof segments.kind !== 'string' ||
          !Array.isArray(segments.location)
        ) {
          throw new Error(RED._('sensor-reading.errors.segments'));
        }
        const value = readingValue(msg.payload);
        const device = readingDevice(msg);
        // Not a number, or nobody registered publishes here: nothing to keep.
        if (value === undefined || !device) return done();
        const customer = device.customerId;
        const location = segments.location as string[];
        const reading = (): NodeMessage =>
          ({
            _msgid: msg._msgid,
            topic: msg.topic,
            payload:
              msg.payload !== null && typeof msg.payload === 'object'
                ? { ...msg.payload }
                : msg.payload,
            segments: { ...segments, location: [...location] },
            deviceId: device.id,
            tags: { customer },
            _customer: customer,
          }) as NodeMessage;
        // Two sends: the first destination of each is given the message as is.
        send([reading(), null, null]);
        send([null, reading(), null]);
        charts.add(segments.kind, customer, location.join('/'), value);
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: 'sensor-reading.status.error' });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
  RED.nodes.registerType('sensor-reading', SensorReadingNode);
};

// MQTT payloads as Node-RED's core `mqtt in` node hands them to a flow, so a
// flow reads the same msg.payload whichever way its messages arrive.
import { isUtf8 } from 'node:buffer';

export type PayloadType = 'auto-detect' | 'json' | 'utf8' | 'buffer';

export const PAYLOAD_TYPES: readonly PayloadType[] = ['auto-detect', 'json', 'utf8', 'buffer'];

/** The payload as `type` asks: auto-detect gives parsed JSON, else the text,
 *  else (not UTF-8) the bytes; json throws on anything else than JSON. */
export function decodePayload(payload: Buffer, type: PayloadType): unknown {
  if (type === 'buffer') return payload;
  if (type === 'utf8') return payload.toString('utf8');
  if (!isUtf8(payload)) {
    if (type === 'json') throw new Error('payload is not UTF-8 text, so not JSON');
    return payload;
  }
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    if (type === 'json') throw new Error(`payload is not JSON: ${(err as Error).message}`);
    return text;
  }
}

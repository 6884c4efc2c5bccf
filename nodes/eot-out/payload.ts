// The frame an eot-out message asks for, checked before anything is sent.
import type { OutboundFrame } from '../../lib/eot/server';

/** The frame in msg.payload, or an error naming what is wrong. */
export function frameFromPayload(payload: unknown): OutboundFrame {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload))
    throw new Error('msg.payload must be {destination, type, fields, customer}');
  const p = payload as Record<string, unknown>;
  for (const key of ['destination', 'type'] as const)
    if (typeof p[key] !== 'string' || p[key] === '')
      throw new Error(`msg.payload.${key} must be a non-empty string`);
  const fields = p.fields === undefined ? [] : p.fields;
  if (
    !Array.isArray(fields) ||
    !fields.every((f) => typeof f === 'string' || typeof f === 'number')
  )
    throw new Error('msg.payload.fields must be an array of strings');
  for (const key of ['customer', 'origin'] as const)
    if (p[key] !== undefined && typeof p[key] !== 'string')
      throw new Error(`msg.payload.${key} must be a string`);
  return {
    destination: p.destination as string,
    type: p.type as string,
    fields: fields.map(String),
    customer: p.customer as string | undefined,
    origin: p.origin as string | undefined,
  };
}

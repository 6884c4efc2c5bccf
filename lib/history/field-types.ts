// Field typing: which InfluxDB type each field of a measurement gets. Types
// are declared per measurement (InfluxDB fixes a field's type on first write,
// and the standard node writes 21 as a float today and 22 as an integer
// tomorrow); undeclared numbers are floats. The first type written for a field
// is remembered, so a conflicting value is refused with a clear error here
// instead of being rejected later inside a batch.
import { describe, FIELD_TYPES, FieldType, PointError, TypedField } from './point';

/** measurement (or `*`) → field (or `*`) → type. */
export type FieldTypeMap = Record<string, Record<string, FieldType>>;

const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Checks a declaration (from a node's settings); throws an Error naming the fault. */
export function parseFieldTypes(raw: unknown): FieldTypeMap {
  if (raw === undefined || raw === null || raw === '') return {};
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error('field types are not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('field types must be an object: {"measurement": {"field": "integer"}}');
  }
  const map: FieldTypeMap = {};
  for (const [measurement, fields] of Object.entries(value)) {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
      throw new Error(`field types of ${measurement} must be an object of field → type`);
    }
    map[measurement] = {};
    for (const [field, type] of Object.entries(fields as Record<string, unknown>)) {
      if (!FIELD_TYPES.includes(type as FieldType)) {
        throw new Error(
          `type of ${measurement}.${field} must be one of ${FIELD_TYPES.join(', ')}, not ${describe(type)}`,
        );
      }
      map[measurement][field] = type as FieldType;
    }
  }
  return map;
}

/** Types seen so far, shared by every writer of one history store. */
export type LearnedTypes = Map<string, FieldType>;

export class FieldTyping {
  constructor(
    private readonly declared: FieldTypeMap,
    private readonly learned: LearnedTypes = new Map(),
  ) {}

  declaredType(measurement: string, field: string): FieldType | undefined {
    const own = this.declared[measurement];
    const any = this.declared['*'];
    return own?.[field] ?? own?.['*'] ?? any?.[field] ?? any?.['*'];
  }

  /** The typed field for `raw`, or a PointError saying why it cannot be written. */
  field(measurement: string, name: string, raw: unknown): TypedField {
    const declared = this.declaredType(measurement, name);
    const field = declared
      ? coerce(declared, raw, measurement, name)
      : infer(raw, measurement, name);
    const key = measurement + '\u0000' + name;
    const seen = this.learned.get(key);
    if (seen === undefined) this.learned.set(key, field.type);
    else if (seen !== field.type) {
      throw new PointError(
        `field ${name} of ${measurement} is written as ${seen}; ${describe(raw)} would make it ${field.type}`,
      );
    }
    return field;
  }
}

function infer(raw: unknown, measurement: string, name: string): TypedField {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw new PointError(`field ${name} of ${measurement} is ${raw}`);
    return { type: 'float', value: raw };
  }
  if (typeof raw === 'boolean') return { type: 'boolean', value: raw };
  if (typeof raw === 'string' && NUMERIC.test(raw)) return { type: 'float', value: Number(raw) };
  throw new PointError(
    `field ${name} of ${measurement} is not a number: ${describe(raw)} ` +
      '(declare it as a string field to keep text)',
  );
}

function coerce(type: FieldType, raw: unknown, measurement: string, name: string): TypedField {
  const what = `field ${name} of ${measurement}`;
  switch (type) {
    case 'float': {
      const value = typeof raw === 'string' && NUMERIC.test(raw) ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new PointError(`${what} must be a number, not ${describe(raw)}`);
      }
      return { type, value };
    }
    case 'integer': {
      const value = typeof raw === 'string' && NUMERIC.test(raw) ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        throw new PointError(`${what} must be an integer, not ${describe(raw)}`);
      }
      if (!Number.isSafeInteger(value)) {
        throw new PointError(`${what} is too large to be exact: ${describe(raw)}`);
      }
      return { type, value };
    }
    case 'boolean':
      if (typeof raw === 'boolean') return { type, value: raw };
      if (raw === 'true' || raw === 'false') return { type, value: raw === 'true' };
      throw new PointError(`${what} must be true or false, not ${describe(raw)}`);
    case 'string':
      if (typeof raw === 'string') return { type, value: raw };
      if (typeof raw === 'number' || typeof raw === 'boolean') return { type, value: String(raw) };
      throw new PointError(`${what} must be text, not ${describe(raw)}`);
  }
}

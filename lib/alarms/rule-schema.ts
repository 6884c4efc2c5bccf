// The JSON Schema of a rule file (rules/README.md documents it). Structure
// only: what needs the engine (operator names, thresholds for hysteresis) is
// checked in validate.ts, which reports both kinds of error the same way.
import { DURATION_PATTERN, SEVERITIES } from './format';

/** Facts a reading offers to conditions (facts.ts builds them). */
export const FACTS = [
  'value',
  'previous',
  'kind',
  'unit',
  'ts',
  'location',
  'site',
  'outdoor',
  'building',
  'room',
  'deviceId',
  'customerId',
  'device',
  'state',
  'lastSeen',
  'topic',
  'payload',
] as const;

// A number of milliseconds or a text like `10m` (pattern applies to strings only).
const duration = { type: ['string', 'number'], pattern: DURATION_PATTERN, minimum: 0 };

export const ruleFileSchema = {
  $id: 'https://sensflow.dev/schemas/alarm-rules.json',
  type: 'object',
  required: ['rules'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    rules: { type: 'array', items: { $ref: '#/definitions/rule' } },
  },
  definitions: {
    rule: {
      type: 'object',
      required: ['name', 'alarm', 'severity', 'conditions'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
        alarm: { type: 'string', minLength: 1, maxLength: 255 },
        severity: { enum: [...SEVERITIES] },
        description: { type: 'string' },
        priority: { type: 'integer', minimum: 1 },
        per: { enum: ['device', 'location'] },
        conditions: { $ref: '#/definitions/condition' },
        clear: { $ref: '#/definitions/condition' },
        hysteresis: { type: 'number', exclusiveMinimum: 0 },
        for: duration,
        repeat: { type: 'integer', minimum: 1 },
        escalate: {
          type: 'array',
          items: {
            type: 'object',
            required: ['severity'],
            additionalProperties: false,
            properties: {
              severity: { enum: [...SEVERITIES] },
              after: duration,
              when: { $ref: '#/definitions/condition' },
            },
          },
        },
        actions: { type: 'array', items: { $ref: '#/definitions/action' } },
        notify: {
          type: 'array',
          uniqueItems: true,
          items: { enum: ['dashboard', 'eot'] },
        },
      },
    },
    condition: {
      type: 'object',
      additionalProperties: false,
      properties: {
        all: { type: 'array', items: { $ref: '#/definitions/condition' } },
        any: { type: 'array', items: { $ref: '#/definitions/condition' } },
        not: { $ref: '#/definitions/condition' },
        fact: { enum: [...FACTS] },
        operator: { type: 'string', minLength: 1 },
        value: {},
        path: { type: 'string', pattern: '^\\$' },
        params: { type: 'object' },
        priority: { type: 'integer', minimum: 1 },
        name: { type: 'string' },
      },
    },
    action: {
      type: 'object',
      required: ['on', 'target', 'order'],
      additionalProperties: false,
      properties: {
        on: { enum: ['raise', 'clear'] },
        target: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            kind: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
            location: { type: 'string', minLength: 1 },
            deviceId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
          },
        },
        order: { type: ['string', 'number'] },
        dest: { type: 'string', minLength: 1 },
      },
    },
  },
} as const;

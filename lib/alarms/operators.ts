// Sensflow's operators, added to json-rules-engine's own. `changedBy`,
// `risingAbove` and `fallingBelow` compare a reading with the previous value
// of its series (same kind at the same device or location): json-rules-engine
// hands an operator only (fact value, condition value), so the previous value
// comes from `series`, which whoever evaluates sets to the reading's
// `previous` fact first. It is one object for the process on purpose: a
// compiled rule works whichever engine's operators it was compiled with, and
// evaluations are synchronous, so they never interleave (a plain engine run
// in a test or benchmark sets it before each awaited run). Every operator
// returns a strict boolean and never throws.
import { Engine, Operator } from 'json-rules-engine';

export interface SeriesContext {
  previous: unknown;
}

/** The previous value of the series being evaluated. */
export const series: SeriesContext = { previous: undefined };

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Operators that need the previous value: the fact must be `value`. */
export const SERIES_OPERATORS = ['changedBy', 'risingAbove', 'fallingBelow'] as const;

export function sensflowOperators(context: SeriesContext = series): Operator[] {
  return [
    new Operator<unknown, unknown>(
      'between',
      (a, range) =>
        isNumber(a) &&
        Array.isArray(range) &&
        range.length === 2 &&
        isNumber(range[0]) &&
        isNumber(range[1]) &&
        a >= range[0] &&
        a <= range[1],
    ),
    new Operator<unknown, unknown>('changedBy', (a, by) => {
      const before = context.previous;
      return isNumber(a) && isNumber(before) && isNumber(by) && Math.abs(a - before) >= by;
    }),
    new Operator<unknown, unknown>('risingAbove', (a, level) => {
      const before = context.previous;
      return isNumber(a) && isNumber(before) && isNumber(level) && before <= level && a > level;
    }),
    new Operator<unknown, unknown>('fallingBelow', (a, level) => {
      const before = context.previous;
      return isNumber(a) && isNumber(before) && isNumber(level) && before >= level && a < level;
    }),
  ];
}

/** An engine with Sensflow's operators and options: facts a reading lacks
 *  are undefined (a condition on them is false) rather than an error. */
export function sensflowEngine(context: SeriesContext = series): Engine {
  const engine = new Engine([], { allowUndefinedFacts: true });
  for (const op of sensflowOperators(context)) engine.addOperator(op);
  return engine;
}

/** The engine's operator lookup (json-rules-engine's OperatorMap, decorators
 *  included), which its type declarations do not show. */
export interface OperatorLookup {
  get(name: string): { evaluate(factValue: unknown, jsonValue: unknown): unknown } | null;
}

export function operatorsOf(engine: Engine): OperatorLookup {
  return (engine as unknown as { operators: OperatorLookup }).operators;
}

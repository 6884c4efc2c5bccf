// Shared by the alarm tests: rule files written inline, compiled with a
// Sensflow engine's operators; stores on temp SQLite files or real MariaDB.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConditionJson, RuleSpec } from '../../../lib/alarms/format';
import { operatorsOf, sensflowEngine } from '../../../lib/alarms/operators';
import { compileRuleFile, RuleSet } from '../../../lib/alarms/rules';
import { mariadb } from '../../support/services';
import type { ActionOutcome } from '../../../lib/alarms/actions';
import { AlarmBook, AlarmChange } from '../../../lib/alarms/book';
import { AlarmEngine, Evaluation } from '../../../lib/alarms/engine';
import type { DeviceDirectory } from '../../../lib/registry/directory';
import { openStore, Store, StoreSpec } from '../../../lib/store/store';
import type { FakeClock } from '../../support/fake-clock';

export const ops = operatorsOf(sensflowEngine());

export type RuleInput = Partial<RuleSpec> & { name: string; conditions: ConditionJson };

export function rule(input: RuleInput): RuleSpec {
  return { alarm: input.name, severity: 'major', ...input };
}

export function ruleSet(rules: RuleInput[], set = 'test'): RuleSet {
  return compileRuleFile(JSON.stringify({ rules: rules.map(rule) }), `${set}.json`, set, ops);
}

export const kindIs = (kind: string): ConditionJson => ({
  fact: 'kind',
  operator: 'equal',
  value: kind,
});
export const valueAbove = (level: number): ConditionJson => ({
  fact: 'value',
  operator: 'greaterThan',
  value: level,
});

export function sqliteSpec(): StoreSpec {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sensflow-alarms-'));
  return { kind: 'sqlite', file: path.join(dir, 'sensflow.db') };
}

export async function mariadbSpec(name: string): Promise<StoreSpec> {
  return { kind: 'mysql', url: await (await mariadb()).createDatabase(name) };
}

// ------------------------------------------------------------ engines on a store

export interface Rig {
  store: Store;
  book: AlarmBook;
  engine: AlarmEngine;
  changes: AlarmChange[];
  actions: ActionOutcome[];
  /** Sends a reading and waits for its evaluation. */
  send(msg: Record<string, unknown>): Promise<Evaluation>;
  /** Closes the engine and the book, keeping the store (a restart). */
  stop(): Promise<void>;
}

export async function rig(options: {
  clock: FakeClock;
  sets: RuleSet[];
  spec?: StoreSpec;
  store?: Store;
  directory?: DeviceDirectory;
}): Promise<Rig> {
  const store = options.store ?? (await openStore(options.spec ?? sqliteSpec()));
  const book = await AlarmBook.open(store.db, { clock: options.clock });
  const changes: AlarmChange[] = [];
  const actions: ActionOutcome[] = [];
  const engine = new AlarmEngine({
    db: store.db,
    book,
    clock: options.clock,
    directory: options.directory,
    onChange: (c) => changes.push(c),
    onAction: (a) => actions.push(a),
  });
  await engine.setRules(options.sets);
  return {
    store,
    book,
    engine,
    changes,
    actions,
    send: async (msg) => {
      const result = await engine.handle(msg);
      await engine.settle();
      return result;
    },
    stop: async () => {
      await engine.close();
      await book.close();
    },
  };
}

/** An MQTT-style reading: `<location>/<kind>` with `{value}`. */
export const reading = (location: string, kind: string, value: unknown) => ({
  topic: `${location}/${kind}`,
  payload: { value },
});

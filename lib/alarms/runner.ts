// What an alarm-rules node runs, free of Node-RED: its rule source (reloaded
// when a file changes, the last good rules kept when it no longer
// validates), its one engine, and the messages for its outputs. The node
// glue gives it a status and a send, and hands it every input message.
import type { Kysely } from 'kysely';
import type { DeviceDirectory } from '../registry/directory';
import type { Database } from '../store/schema';
import type { Clock } from '../util/clock';
import type { Logger } from '../util/log';
import type { ActionOutcome } from './actions';
import type { AlarmBook, AlarmChange } from './book';
import { AlarmEngine, Evaluation } from './engine';
import type { ReadingMessage } from './readings';
import type { CompiledRule } from './rules';
import { Loaded, RuleSource, RuleSourceSpec } from './source';
import { describeProblem } from './validate';

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface RunnerPorts {
  status(status: NodeStatus): void;
  /** Output 1: an alarm transition. */
  sendAlarm(msg: Record<string, unknown>): void;
  /** Output 2: an actuator command. */
  sendCommand(msg: Record<string, unknown>): void;
  /** "N rules", in the node's locale. */
  rulesText(rules: number): string;
}

export interface RunnerOptions {
  db: Kysely<Database>;
  book: AlarmBook;
  directory?: DeviceDirectory;
  source: RuleSourceSpec;
  defaultSite: string;
  clock?: Clock;
  logger: Logger;
  ports: RunnerPorts;
  /** Debounce of file changes. */
  reloadMs?: number;
}

/** The message an alarm transition goes out as (output 1). */
export function alarmMessage(change: AlarmChange, rule: CompiledRule | undefined) {
  const { alarm, transition } = change;
  const shelved = alarm.shelvedUntil !== null;
  return {
    topic: alarm.name,
    payload: alarm,
    transition,
    rule: rule?.id ?? alarm.ruleId,
    // A shelved alarm is kept from people, not from the record.
    notify: shelved ? [] : (rule?.notify ?? []),
  };
}

export class AlarmRulesRunner {
  readonly engine: AlarmEngine;
  private readonly source: RuleSource;
  private lastProblems = 0;

  private constructor(private readonly options: RunnerOptions) {
    const { ports } = options;
    this.engine = new AlarmEngine({
      db: options.db,
      book: options.book,
      directory: options.directory,
      clock: options.clock,
      logger: options.logger,
      defaultSite: options.defaultSite,
      onChange: (change, rule) => ports.sendAlarm(alarmMessage(change, rule)),
      onAction: (outcome) => this.action(outcome),
    });
    this.source = new RuleSource(options.source, this.engine.ops, { clock: options.clock });
  }

  static async start(options: RunnerOptions): Promise<AlarmRulesRunner> {
    const runner = new AlarmRulesRunner(options);
    await runner.apply(runner.source.load());
    runner.source.watch((loaded) => {
      runner
        .apply(loaded)
        .catch((err: unknown) => options.logger.error(`reloading rules: ${String(err)}`));
    }, options.reloadMs);
    return runner;
  }

  /** Installs the loaded rules (the last good ones of a failing file are among them). */
  private async apply(loaded: Loaded): Promise<void> {
    const { ports, logger } = this.options;
    await this.engine.setRules(loaded.sets);
    const rules = loaded.sets.reduce((n, s) => n + s.rules.length, 0);
    if (loaded.problems.length > 0) {
      for (const p of loaded.problems) logger.warn(describeProblem(p));
      // The problem itself (file, rule, path) is the message; more are in the log.
      const more = loaded.problems.length - 1;
      const first = describeProblem(loaded.problems[0]);
      ports.status({ fill: 'red', shape: 'ring', text: more > 0 ? `${first} (+${more})` : first });
    } else {
      if (this.lastProblems > 0) logger.info(`rules valid again: ${rules} rules`);
      ports.status({ fill: 'green', shape: 'dot', text: ports.rulesText(rules) });
    }
    this.lastProblems = loaded.problems.length;
  }

  private action(outcome: ActionOutcome): void {
    if ('refused' in outcome) return;
    const { command } = outcome;
    this.options.ports.sendCommand({
      topic: command.topic,
      payload: command.payload,
      target: command.target,
      idempotencyKey: command.idempotencyKey,
      alarm: command.alarm,
      on: command.on,
    });
  }

  handle(msg: ReadingMessage): Evaluation | Promise<Evaluation> {
    return this.engine.handle(msg);
  }

  async close(): Promise<void> {
    this.source.close();
    await this.engine.close();
  }
}

// Runs actuator commands to the end: checks an order against the registry,
// records it in the ledger, sends it when the transport is ready (so orders
// given while the broker is down wait in the ledger, bounded), matches the
// units' echoes, retries with backoff, and gives up at the time to live, after
// which an order is never sent. Each command ends in exactly one final state,
// reported once; a restart resumes the owner's open commands from the ledger.
import crypto from 'node:crypto';
import { backoffDelay } from '../util/backoff';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import { errorMessage, Logger, silentLogger } from '../util/log';
import type { CommandRecord } from './ledger';
import { commandSends, commandsFinished, confirmationSeconds } from './metrics';
import { TargetListeners } from './listeners';
import { CommandOptions, CommandServiceDeps, DEFAULT_COMMAND_OPTIONS } from './options';
import { checkOrder } from './orders';
import { checkDest, checkIdempotencyKey } from './request';
import { isFinal, resultOf } from './results';
import { OrderRefused } from './transport';
import {
  ALL_UNITS,
  CommandError,
  CommandRequest,
  CommandResult,
  CommandState,
  Incoming,
  targetKey,
} from './types';

interface Active<C> {
  record: CommandRecord;
  context?: C;
  timer?: TimerHandle;
  /** Every step of one command runs in order on this chain. */
  chain: Promise<void>;
  /** Waiting for the transport to be ready. */
  waiting: boolean;
}

export class CommandService<C = unknown> {
  private readonly options: CommandOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly active = new Map<string, Active<C>>();
  private readonly listeners: TargetListeners;
  private stopReady?: () => void;
  private closed = false;

  constructor(private readonly deps: CommandServiceDeps<C>) {
    this.options = { ...DEFAULT_COMMAND_OPTIONS, ...deps.options };
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.listeners = new TargetListeners(
      deps.transport,
      (key, m) => this.heard(key, m),
      this.logger,
    );
  }

  /** Starts: resumes the owner's open commands (ending those past their time to live). */
  async start(): Promise<void> {
    this.stopReady = this.deps.transport.onReady(() => this.transportReady());
    for (const record of await this.deps.ledger.open(this.deps.owner)) {
      const a = this.activate(record);
      this.run(a, () => this.resume(a));
    }
    await this.settled();
  }

  /** Commands open in this process. */
  get pending(): number {
    return this.active.size;
  }

  /** Commands waiting for the transport. */
  get waiting(): number {
    let n = 0;
    for (const a of this.active.values()) if (a.waiting || a.record.state === 'queued') n++;
    return n;
  }

  /** Checks and records a command and starts it. A known idempotency key
   *  returns the earlier command's result (duplicate), sending nothing. */
  async submit(
    request: CommandRequest,
    context?: C,
  ): Promise<{ result: CommandResult; duplicate: boolean }> {
    if (this.closed) throw new CommandError('the command service is stopped');
    const order = checkOrder(request.order);
    checkDest(request.dest);
    const key =
      request.idempotencyKey === undefined ? null : checkIdempotencyKey(request.idempotencyKey);
    if (key !== null) {
      const earlier = await this.deps.ledger.byKey(key);
      if (earlier) return { result: resultOf(earlier, { duplicate: true }), duplicate: true };
    }
    if (this.waiting >= this.options.queueLimit) {
      throw new CommandError(
        `${this.waiting} commands are already waiting to be sent (limit ${this.options.queueLimit})`,
      );
    }
    if (!this.deps.transport.reaches(request.target)) {
      throw new CommandError(`no transport here reaches ${request.target.transport} targets`);
    }
    const units = await this.deps.units.resolve({ ...request, order });
    if (isReinstall(request) && !this.deps.credentials) {
      throw new CommandError('a reinstall order needs a registry that can reset credentials');
    }
    const now = this.clock.now();
    const { record, duplicate } = await this.deps.ledger.create({
      id: this.deps.newId?.() ?? crypto.randomUUID(),
      owner: this.deps.owner,
      idempotencyKey: key,
      target: request.target,
      order,
      dest: request.dest,
      units,
      replies: {},
      state: 'queued',
      attempts: 0,
      maxAttempts: this.options.maxAttempts,
      ackTimeoutMs: this.options.ackTimeoutMs,
      createdAt: now,
      expiresAt: now + this.options.ttlMs,
      firstSentAt: null,
      lastSentAt: null,
      finishedAt: null,
      detail: null,
    });
    if (duplicate) return { result: resultOf(record, { duplicate: true }), duplicate: true };
    const a = this.activate(record, context);
    await this.run(a, async () => {
      await this.listeners.add(a.record.target);
      await this.attempt(a);
    });
    return { result: resultOf(a.record), duplicate: false };
  }

  /** Stops timers and listeners; open commands stay in the ledger for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopReady?.();
    for (const a of this.active.values()) this.clock.clearTimeout(a.timer);
    await this.settled();
    this.active.clear();
    await this.listeners.closeAll();
  }

  /** Takes over the open commands of `from` (the same node on a lost
   *  instance) and runs them as if resumed after a restart; returns how many. */
  async adopt(from: string): Promise<number> {
    if (this.closed || from === this.deps.owner) return 0;
    const n = await this.deps.ledger.adopt(from, this.deps.owner);
    if (n === 0) return 0;
    this.logger.info(`took over ${n} open command(s) of ${from}`);
    for (const record of await this.deps.ledger.open(this.deps.owner)) {
      if (this.active.has(record.id)) continue;
      const a = this.activate(record);
      this.run(a, () => this.resume(a));
    }
    return n;
  }

  /** Ends the owner's open commands for good (its node was removed). */
  async abandon(): Promise<number> {
    return this.deps.ledger.abandon(this.deps.owner, this.clock.now(), 'the node was removed');
  }

  // ---------------------------------------------------------------- steps

  private async resume(a: Active<C>): Promise<void> {
    const r = a.record;
    await this.listeners.add(a.record.target);
    if (this.clock.now() >= r.expiresAt) return this.expire(a);
    if (r.attempts === 0) return this.attempt(a);
    // Sent before the restart: answers may still come within the send's
    // window; after it, the usual retry applies.
    this.schedule(a, (r.lastSentAt ?? r.createdAt) + r.ackTimeoutMs, () => this.unanswered(a));
  }

  private async attempt(a: Active<C>): Promise<void> {
    const r = a.record;
    if (isFinal(r.state) || this.closed) return;
    const now = this.clock.now();
    if (now >= r.expiresAt) return this.expire(a);
    if (!this.deps.transport.isReady(r.target)) {
      a.waiting = true;
      this.schedule(a, r.expiresAt, () => this.expire(a));
      return;
    }
    a.waiting = false;
    const before = { attempts: r.attempts, firstSentAt: r.firstSentAt, lastSentAt: r.lastSentAt };
    r.attempts += 1;
    r.state = 'sent';
    r.firstSentAt ??= now;
    r.lastSentAt = now;
    try {
      // Recorded before it leaves: a crash after this resumes it as sent.
      if (!(await this.deps.ledger.markSent(r))) return this.drop(a);
    } catch (err) {
      Object.assign(r, before, { state: before.attempts > 0 ? 'sent' : 'queued' });
      this.logger.warn(
        `command ${r.id}: cannot record the send (${errorMessage(err)}); will retry`,
      );
      this.schedule(a, now + backoffDelay(0, this.options.backoff), () => this.attempt(a));
      return;
    }
    commandSends.inc({ transport: r.target.transport });
    // After a partial answer, the order goes again only to the silent units.
    const silent = r.units.filter((u) => !r.replies[u]);
    const dests = r.dest === ALL_UNITS && silent.length < r.units.length ? silent : [r.dest];
    this.logger.debug(
      `command ${r.id}: send ${r.attempts}/${r.maxAttempts} to ${dests.join(', ')}`,
    );
    const sent = Promise.all(
      dests.map((dest) =>
        this.deps.transport.send({ commandId: r.id, target: r.target, order: r.order, dest }),
      ),
    );
    sent.catch((err: unknown) => this.run(a, () => this.sendFailed(a, err, now)));
    this.schedule(a, now + r.ackTimeoutMs, () => this.unanswered(a));
  }

  private async sendFailed(a: Active<C>, err: unknown, sentAt: number): Promise<void> {
    const r = a.record;
    if (isFinal(r.state) || r.lastSentAt !== sentAt) return;
    if (err instanceof OrderRefused) return this.finish(a, 'rejected', err.message);
    this.logger.warn(`command ${r.id}: send failed: ${errorMessage(err)}`);
    if (!this.deps.transport.isReady(r.target)) {
      // It never left: it does not count, and goes again on reconnection.
      r.attempts -= 1;
      a.waiting = true;
      this.schedule(a, r.expiresAt, () => this.expire(a));
    }
  }

  /** A send's window closed without every unit answering. */
  private async unanswered(a: Active<C>): Promise<void> {
    const r = a.record;
    if (isFinal(r.state)) return;
    if (r.attempts >= r.maxAttempts) {
      return this.finish(a, 'timeout', `no confirmation after ${r.attempts} sends`);
    }
    const retryAt = this.clock.now() + backoffDelay(r.attempts - 1, this.options.backoff);
    if (retryAt >= r.expiresAt) {
      this.schedule(a, r.expiresAt, () => this.expire(a));
    } else {
      this.schedule(a, retryAt, () => this.attempt(a));
    }
  }

  private async expire(a: Active<C>): Promise<void> {
    const r = a.record;
    if (isFinal(r.state)) return;
    if (r.attempts > 0) {
      return this.finish(a, 'timeout', 'no confirmation within the time to live');
    }
    return this.finish(a, 'expired', 'the time to live ran out before the order could be sent');
  }

  /** An echo: the oldest sent command still waiting for that unit takes it. */
  private heard(key: string, message: Incoming): void {
    if (this.closed) return;
    const echo = message.echo;
    if (echo) {
      for (const a of this.active.values()) {
        const r = a.record;
        if (targetKey(r.target) !== key || r.state !== 'sent') continue;
        if (!r.units.includes(echo.unitId) || r.replies[echo.unitId]) continue;
        r.replies[echo.unitId] = {
          at: this.clock.now(),
          status: echo.status,
          ...(echo.rejected ? { rejected: true } : {}),
        };
        message.commandId = r.id;
        this.run(a, () => this.answered(a));
        break;
      }
    }
    this.deps.events.message?.(message);
  }

  private async answered(a: Active<C>): Promise<void> {
    const r = a.record;
    if (isFinal(r.state)) return;
    if (!r.units.every((u) => r.replies[u])) {
      await this.deps.ledger.saveReplies(r).catch((err: unknown) => {
        this.logger.warn(`command ${r.id}: cannot record a reply: ${errorMessage(err)}`);
      });
      return;
    }
    const refused = r.units.filter((u) => r.replies[u].rejected);
    if (refused.length > 0) return this.finish(a, 'rejected', `refused by ${refused.join(', ')}`);
    return this.finish(a, 'confirmed', null);
  }

  private async finish(a: Active<C>, state: CommandState, detail: string | null): Promise<void> {
    const r = a.record;
    this.clock.clearTimeout(a.timer);
    r.state = state;
    r.finishedAt = this.clock.now();
    r.detail = detail;
    let won: boolean;
    try {
      won = await this.deps.ledger.finish(r);
    } catch (err) {
      // The result is reported once the ledger has it, never before.
      this.logger.warn(`command ${r.id}: cannot record "${state}": ${errorMessage(err)}`);
      this.schedule(a, this.clock.now() + 1_000, () => this.finish(a, state, detail), true);
      return;
    }
    this.drop(a);
    if (!won) return;
    commandsFinished.inc({ transport: r.target.transport, state });
    if (state === 'confirmed' && r.firstSentAt !== null) {
      confirmationSeconds.observe(
        { transport: r.target.transport },
        ((r.finishedAt ?? 0) - r.firstSentAt) / 1000,
      );
    }
    const extra: Partial<CommandResult> = {};
    if (isReinstall(r) && r.attempts > 0 && (state === 'confirmed' || state === 'timeout')) {
      extra.credentialsReset = await this.resetCredentials(r);
    }
    this.deps.events.result(resultOf(r, extra), a.context);
  }

  /** A reinstalled device fetches new credentials, which only a reset hands
   *  out. Done after the order went out: the reset cuts the device off. */
  private async resetCredentials(r: CommandRecord): Promise<boolean> {
    let all = true;
    for (const unit of r.units) {
      try {
        await this.deps.credentials!.resetCredentials(unit);
      } catch (err) {
        all = false;
        this.logger.error(
          `command ${r.id}: cannot reset the credentials of ${unit}: ${errorMessage(err)}`,
        );
      }
    }
    return all;
  }

  // ---------------------------------------------------------------- plumbing

  private activate(record: CommandRecord, context?: C): Active<C> {
    const a: Active<C> = { record, context, chain: Promise.resolve(), waiting: false };
    this.active.set(record.id, a);
    return a;
  }

  private drop(a: Active<C>): void {
    this.clock.clearTimeout(a.timer);
    if (this.active.get(a.record.id) !== a) return;
    this.active.delete(a.record.id);
    this.listeners.remove(a.record.target);
  }

  /** Runs `step` after the command's earlier steps; never rejects. */
  private run(a: Active<C>, step: () => Promise<void>): Promise<void> {
    a.chain = a.chain
      .then(() => (this.closed ? undefined : step()))
      .catch((err: unknown) => {
        this.logger.error(`command ${a.record.id}: ${errorMessage(err)}`);
      });
    return a.chain;
  }

  private schedule(a: Active<C>, at: number, step: () => Promise<void>, always = false): void {
    this.clock.clearTimeout(a.timer);
    if (this.closed) return;
    const r = a.record;
    // No step is ever later than the time to live, except recording the end.
    const when = always ? at : Math.min(at, r.expiresAt);
    const next = when >= r.expiresAt && !always ? () => this.expire(a) : step;
    a.timer = this.clock.setTimeout(
      () => void this.run(a, next),
      Math.max(0, when - this.clock.now()),
    );
  }

  private transportReady(): void {
    for (const a of this.active.values()) {
      if (a.waiting) this.run(a, () => this.attempt(a));
    }
  }

  /** Resolves when no step of any command is running or queued. */
  async settled(): Promise<void> {
    for (;;) {
      const chains = [...this.active.values()].map((a) => a.chain);
      await Promise.all(chains);
      const now = [...this.active.values()].map((a) => a.chain);
      if (now.length === chains.length && now.every((c, i) => c === chains[i])) return;
    }
  }
}

function isReinstall(c: { target: CommandRequest['target']; order: unknown }): boolean {
  return c.target.transport === 'mqtt' && c.target.kind === 'device' && c.order === 'reinstall';
}

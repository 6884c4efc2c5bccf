// A command's result as the flow sees it, from its ledger record: its state,
// the per-unit table, its latency and the status the units echoed.
import type { CommandRecord } from './ledger';
import { ALL_UNITS, CommandResult, FINAL_STATES, UnitOutcome, UnitState } from './types';

export function isFinal(state: string): boolean {
  return (FINAL_STATES as readonly string[]).includes(state);
}

export function resultOf(r: CommandRecord, extra: Partial<CommandResult> = {}): CommandResult {
  const since = r.firstSentAt ?? r.createdAt;
  const units: Record<string, UnitOutcome> = {};
  for (const unit of r.units) {
    const reply = r.replies[unit];
    units[unit] = reply
      ? {
          state: reply.rejected ? 'rejected' : 'confirmed',
          latencyMs: reply.at - since,
          status: reply.status,
        }
      : {
          state: isFinal(r.state) ? (r.state as UnitState) : 'pending',
          latencyMs: null,
          status: null,
        };
  }
  const replies = Object.values(r.replies);
  const result: CommandResult = {
    commandId: r.id,
    target: r.target,
    order: r.order,
    dest: r.dest,
    state: r.state,
    attempts: r.attempts,
    latencyMs:
      r.state === 'confirmed' && replies.length > 0
        ? Math.max(...replies.map((reply) => reply.at)) - since
        : null,
    status:
      r.dest === ALL_UNITS
        ? Object.fromEntries(r.units.map((u) => [u, r.replies[u]?.status ?? null]))
        : (r.replies[r.units[0]]?.status ?? null),
    units,
    ...extra,
  };
  if (r.detail) result.detail = r.detail;
  return result;
}

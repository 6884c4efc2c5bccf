// What the history-store config node offers the history nodes that use it.
import type { Node } from 'node-red';
import type { RecentOrigins } from '../../lib/history/origins';
import type { Precision } from '../../lib/history/point';
import type { History } from '../../lib/history/service';
import type { WriterState } from '../../lib/history/writer';

/** Where a written point came from: tells that message's node about a refusal. */
export interface PointOrigin {
  report(reason: string): void;
}

export interface HistoryStoreNode extends Node<{ username?: string; password?: string }> {
  /** The open history; rejects with the reason when it cannot be opened. */
  history(): Promise<History>;
  readonly precision: Precision;
  readonly origins: RecentOrigins<PointOrigin>;
  /** Calls `listener` with the writer's state every second; returns an unwatch. */
  watch(listener: (state: WriterState) => void): () => void;
}

// What the history-store config node offers the history nodes that use it.
import type { Node } from 'node-red';
import type { Precision } from '../../lib/history/point';
import type { History } from '../../lib/history/service';
import type { WriterState } from '../../lib/history/writer';

export interface HistoryStoreNode extends Node<{ username?: string; password?: string }> {
  /** The open history; rejects with the reason when it cannot be opened. */
  history(): Promise<History>;
  readonly precision: Precision;
  /** Calls `listener` with the writer's state every second; returns an unwatch. */
  watch(listener: (state: WriterState) => void): () => void;
}

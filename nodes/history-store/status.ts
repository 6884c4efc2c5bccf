// The status history nodes show for their store's writer.
import type { NodeAPI, NodeStatus } from 'node-red';
import type { WriterState } from '../../lib/history/writer';

export function storeStatus(RED: NodeAPI, state: WriterState): NodeStatus & { text: string } {
  if (state.failures > 0) {
    return {
      fill: 'yellow',
      shape: 'ring',
      text: RED._('history-store.status.spooling', {
        pending: state.pending,
        error: state.lastError ?? '',
      }),
    };
  }
  return {
    fill: 'green',
    shape: 'dot',
    text: RED._('history-store.status.ok', { written: state.written, pending: state.pending }),
  };
}

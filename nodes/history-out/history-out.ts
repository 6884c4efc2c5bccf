// history-out: writes the readings of each message to a history store.
// done() is called once every good point of the message is safe on disk;
// refused points fail the message with their reasons.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { FieldTypeMap, FieldTyping, parseFieldTypes } from '../../lib/history/field-types';
import { historyMetrics } from '../../lib/history/metrics';
import { convertMessage, ReadingMessage, tagObject } from '../../lib/history/readings';
import { WriterState } from '../../lib/history/writer';
import { errorMessage } from '../../lib/util/log';
import type { HistoryStoreNode } from '../history-store/history-store-node';
import { storeStatus } from '../history-store/status';

interface HistoryOutDef extends NodeDef {
  store: string;
  measurement: string;
  tags: string;
  fieldTypes: string;
  maxFuture: string | number;
}

export = function (RED: NodeAPI) {
  function HistoryOut(this: Node, def: HistoryOutDef) {
    RED.nodes.createNode(this, def);
    const store = RED.nodes.getNode(def.store) as HistoryStoreNode | null;
    let declared: FieldTypeMap;
    let tags: Record<string, string>;
    let maxFutureMs: number;
    let setupError: Error | undefined;
    try {
      if (!store) throw new Error(`${RED._('history-out.errors.noStore')}: ${def.store || '-'}`);
      declared = parseFieldTypes(def.fieldTypes);
      tags = def.tags ? tagObject(JSON.parse(def.tags)) : {};
      const minutes =
        def.maxFuture === undefined || def.maxFuture === '' ? 60 : Number(def.maxFuture);
      if (!(minutes >= 0)) throw new Error(RED._('history-out.errors.maxFuture'));
      maxFutureMs = minutes * 60_000;
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
      this.status({ fill: 'red', shape: 'ring', text: setupError.message });
    }
    let typing: FieldTyping | undefined;

    this.on('input', async (msg: NodeMessageInFlow, _send, done) => {
      try {
        if (setupError || !store) throw setupError;
        const history = await store.history();
        typing ??= new FieldTyping(declared, history.learnedTypes);
        const { lines, errors } = convertMessage(msg as ReadingMessage, {
          measurement: def.measurement?.trim() || undefined,
          tags,
          typing,
          precision: store.precision,
          now: Date.now(),
          maxFutureMs,
        });
        if (lines.length > 0) {
          store.origins.add(lines, {
            report: (reason) =>
              this.error(`${RED._('history-out.errors.rejected')}: ${reason}`, msg),
          });
          await history.writer.accept(lines);
        }
        if (errors.length > 0) {
          historyMetrics.rejected.inc({ store: store.id, stage: 'input' }, errors.length);
          throw new Error(`${RED._('history-out.errors.refused')}: ${errors.join('; ')}`);
        }
        done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(errorMessage(err)));
      }
    });

    if (store && !setupError) {
      let shown = '';
      const unwatch = store.watch((state: WriterState) => {
        const status = storeStatus(RED, state);
        if (status.text === shown) return;
        shown = status.text;
        this.status(status);
      });
      store
        .history()
        .catch((err: unknown) =>
          this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) }),
        );
      this.on('close', () => unwatch());
    }
  }
  RED.nodes.registerType('history-out', HistoryOut);
};

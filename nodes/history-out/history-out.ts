// history-out: writes the readings of each message to a history store.
// done() is called once every good point of the message is safe on disk;
// refused points fail the message with their reasons.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { FieldTypeMap, FieldTyping, parseFieldTypes } from '../../lib/history/field-types';
import { historyMetrics } from '../../lib/history/metrics';
import { NameText } from '../../lib/history/names';
import { ReadingConverter, ReadingMessage, tagObject } from '../../lib/history/readings';
import type { History } from '../../lib/history/service';
import { PointSource, WriterState } from '../../lib/history/writer';
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
  /**
   * A message whose points are on their way: acknowledged (done) once they
   * are on disk, failed if some of them were refused at the node, and told
   * if InfluxDB refuses one later.
   */
  class MessageSource implements PointSource {
    constructor(
      private readonly node: Node,
      private readonly msg: NodeMessageInFlow,
      private readonly done: (err?: Error) => void,
      private readonly refusal?: Error,
    ) {}

    stored(err?: Error): void {
      this.done(err ?? this.refusal);
    }

    refused(reason: string): void {
      this.node.error(`${RED._('history-out.errors.rejected')}: ${reason}`, this.msg);
    }
  }

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
      new NameText().tags(tags); // line protocol can carry them
      const minutes =
        def.maxFuture === undefined || def.maxFuture === '' ? 60 : Number(def.maxFuture);
      if (!(minutes >= 0)) throw new Error(RED._('history-out.errors.maxFuture'));
      maxFutureMs = minutes * 60_000;
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
      this.status({ fill: 'red', shape: 'ring', text: setupError.message });
    }
    // Set by the first message, once the store is open.
    let converter: ReadingConverter | undefined;
    let history: History | undefined;

    const fail = (done: (err?: Error) => void, err: unknown) =>
      done(err instanceof Error ? err : new Error(errorMessage(err)));
    const write = (msg: NodeMessageInFlow, done: (err?: Error) => void) => {
      try {
        const { lines, errors } = converter!.convert(msg as ReadingMessage, Date.now());
        let refusal: Error | undefined;
        if (errors.length > 0) {
          historyMetrics.rejected.inc({ store: store!.id, stage: 'input' }, errors.length);
          refusal = new Error(`${RED._('history-out.errors.refused')}: ${errors.join('; ')}`);
        }
        if (lines.length === 0) return done(refusal);
        // done() comes once the good points are on disk, fsynced together
        // with the other messages of the same moment.
        history!.writer.acceptFrom(lines, new MessageSource(this, msg, done, refusal));
      } catch (err) {
        fail(done, err);
      }
    };
    let opening: Promise<void> | undefined;
    const open = async (): Promise<void> => {
      try {
        history = await store!.history();
      } catch (err) {
        opening = undefined; // the next message tries again
        throw err;
      }
      converter = new ReadingConverter({
        measurement: def.measurement?.trim() || undefined,
        tags,
        typing: new FieldTyping(declared, history.learnedTypes),
        precision: store!.precision,
        maxFutureMs,
      });
    };

    // Not async: once the store is open, a reading takes a synchronous path
    // with no promise per message (a tenth of what a message allocated).
    this.on('input', (msg: NodeMessageInFlow, _send, done) => {
      if (setupError || !store) return fail(done, setupError);
      if (history) return write(msg, done);
      // Messages arriving while the store opens wait for it, in order.
      (opening ??= open()).then(
        () => write(msg, done),
        (err: unknown) => fail(done, err),
      );
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

// history-query: reads aggregated history for a chart. The interval is
// chosen so no series has more than maxPoints points; the output is what
// Dashboard 2.0's ui-chart plots (msg.payload = [{x, y, series}], replace).
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { HistoryRequest, chartPoints, planQuery, seriesLabel } from '../../lib/history/query';
import { errorMessage } from '../../lib/util/log';
import type { HistoryStoreNode } from '../history-store/history-store-node';

interface HistoryQueryDef extends NodeDef {
  store: string;
  measurement: string;
  field: string;
  tags: string;
  groupBy: string;
  range: string;
  aggregation: string;
  interval: string;
  maxPoints: string | number;
  retentionPolicy: string;
}

type QueryMessage = NodeMessageInFlow &
  Partial<Record<keyof HistoryRequest, unknown>> & {
    action?: string;
    history?: unknown;
  };

export = function (RED: NodeAPI) {
  function HistoryQuery(this: Node, def: HistoryQueryDef) {
    RED.nodes.createNode(this, def);
    const store = RED.nodes.getNode(def.store) as HistoryStoreNode | null;
    let tags: unknown;
    let setupError: Error | undefined;
    try {
      if (!store) throw new Error(`${RED._('history-query.errors.noStore')}: ${def.store || '-'}`);
      tags = def.tags ? JSON.parse(def.tags) : undefined;
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
      this.status({ fill: 'red', shape: 'ring', text: setupError.message });
    }

    this.on('input', async (msg: QueryMessage, send, done) => {
      try {
        if (setupError || !store) throw setupError;
        const pick = (key: keyof HistoryRequest, own: unknown) =>
          msg[key] !== undefined ? msg[key] : own;
        const query = planQuery(
          {
            measurement: pick('measurement', def.measurement),
            field: pick('field', def.field),
            tags: pick('tags', tags),
            groupBy: pick('groupBy', def.groupBy),
            from: pick('from', def.range || '24h'),
            to: pick('to', undefined),
            aggregation: pick('aggregation', def.aggregation),
            interval: pick('interval', def.interval),
            maxPoints: pick('maxPoints', def.maxPoints),
            retentionPolicy: pick('retentionPolicy', def.retentionPolicy),
          },
          Date.now(),
        );
        const history = await store.history();
        const series = await history.backend.query(query);
        msg.payload = chartPoints(query, series);
        if (series.length === 1) msg.topic = seriesLabel(query, series[0]);
        msg.action = 'replace';
        msg.history = {
          measurement: query.measurement,
          field: query.field,
          aggregation: query.aggregation,
          from: query.from,
          to: query.to,
          intervalMs: query.intervalMs,
          series,
        };
        this.status({
          fill: 'green',
          shape: 'dot',
          text: RED._('history-query.status.done', {
            points: (msg.payload as unknown[]).length,
            series: series.length,
          }),
        });
        send(msg);
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
        done(err instanceof Error ? err : new Error(errorMessage(err)));
      }
    });
  }
  RED.nodes.registerType('history-query', HistoryQuery);
};

// topic-segment: splits Sensflow topics into their fields and routes messages
// by kind or by filters (parse mode), or sets msg.topic from fields (build
// mode). Works on messages from Node-RED's own `mqtt in` node.
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import {
  BuildDefaults,
  RouteBy,
  TopicComposer,
  TopicSegmenter,
  TopicType,
} from '../../lib/topics/segmenter';
import { TopicCodec } from '../../lib/topics/topic';
import { errorMessage } from '../../lib/util/log';
import { DEFAULT_SITE } from '../../settings';

interface TopicSegmentDef extends NodeDef {
  mode: 'parse' | 'build';
  site: string;
  routeBy: RouteBy;
  rules: Array<{ v: string }>;
  base: string;
  kind: string;
  topicType: TopicType;
}

type SegmentedMessage = NodeMessage & { segments?: unknown };
type Send = (msg: NodeMessage | Array<NodeMessage | null>) => void;

export = function (RED: NodeAPI) {
  function TopicSegmentNode(this: Node, def: TopicSegmentDef) {
    RED.nodes.createNode(this, def);
    let handle: (msg: SegmentedMessage, send: Send) => void;
    try {
      const site = def.site?.trim() || RED.util.getSetting(this, 'SENSFLOW_SITE') || DEFAULT_SITE;
      const codec = new TopicCodec(site);
      handle = def.mode === 'build' ? builder(codec, def) : parser(codec, def);
    } catch (err) {
      // Domain errors are already clear sentences naming the fault.
      const message = `topic-segment: ${errorMessage(err)}`;
      this.error(message);
      this.status({ fill: 'red', shape: 'ring', text: 'topic-segment.status.config' });
      handle = () => {
        throw new Error(message);
      };
    }

    // The status is set on failures only: a status per message would cost more
    // than the routing itself.
    let failing = false;
    this.on('input', async (msg, send, done) => {
      try {
        handle(msg, send);
        if (failing) {
          failing = false;
          this.status({});
        }
        done();
      } catch (err) {
        failing = true;
        this.status({ fill: 'red', shape: 'ring', text: 'topic-segment.status.error' });
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  function parser(codec: TopicCodec, def: TopicSegmentDef) {
    const segmenter = new TopicSegmenter(codec, {
      routeBy: def.routeBy || 'none',
      rules: (def.rules ?? []).map((r) => String(r.v ?? '').trim()),
    });
    const width = segmenter.outputs;
    // One output array, reused: Node-RED's send reads it synchronously and keeps
    // no reference, and a fresh array of a thousand slots per message would
    // cost more than the routing.
    const out: Array<NodeMessage | null> = new Array(width).fill(null);
    return (msg: SegmentedMessage, send: Send) => {
      const { segments, outputs } = segmenter.route(msg.topic);
      msg.segments = segments;
      if (width === 1) return send(msg);
      for (const i of outputs) out[i] = msg;
      send(out);
      for (const i of outputs) out[i] = null;
    };
  }

  function builder(codec: TopicCodec, def: TopicSegmentDef) {
    const defaults: BuildDefaults = {
      base: def.base?.trim() || undefined,
      kind: def.kind?.trim() || undefined,
      type: def.topicType || 'data',
    };
    const composer = new TopicComposer(codec, defaults);
    return (msg: SegmentedMessage, send: Send) => {
      msg.topic = composer.build(msg.segments);
      send(msg);
    };
  }

  RED.nodes.registerType('topic-segment', TopicSegmentNode);
};

// alarm-rules: alarm rules over readings, one long-lived engine per node.
// Glue only: resolve the store, build the runner (lib/alarms/runner.ts) and
// hand it every message; the editor's "check" and file list are admin
// endpoints here.
import fs from 'node:fs';
import path from 'node:path';
import type { NodeAPI, NodeDef, NodeMessageInFlow, Node } from 'node-red';
import type { Evaluation } from '../../lib/alarms/engine';
import { operatorsOf, sensflowEngine } from '../../lib/alarms/operators';
import { compileRuleFile } from '../../lib/alarms/rules';
import { AlarmRulesRunner } from '../../lib/alarms/runner';
import { alarmBookFor } from '../../lib/alarms/shared';
import { resolveRulePath, RuleSourceSpec } from '../../lib/alarms/source';
import { describeProblem, RuleFileError } from '../../lib/alarms/validate';
import { packageRoot } from '../../lib/util/package-root';
import { errorMessage, Logger } from '../../lib/util/log';
import type { RegistryConfigNode } from '../sensflow-registry/registry-node';
import { userDirOf } from '../shared/user-dir';

interface AlarmRulesDef extends NodeDef {
  registry: string;
  wires?: string[][];
  source: 'file' | 'folder' | 'inline';
  path: string;
  rules: string;
  set: string;
}

const SET_NAME = /[^A-Za-z0-9_.:-]/g;
type Send = (msg: Array<NodeMessageInFlow | null>) => void;
type Done = (err?: Error) => void;

export = function (RED: NodeAPI) {
  const userDir = () => userDirOf(RED);

  function AlarmRulesNode(this: Node, def: AlarmRulesDef) {
    RED.nodes.createNode(this, def);
    const registry = RED.nodes.getNode(def.registry) as RegistryConfigNode | null;
    const logger: Logger = {
      error: (m) => this.error(m),
      warn: (m) => this.warn(m),
      info: (m) => this.log(m),
      debug: (m) => this.debug(m),
    };
    const source: RuleSourceSpec =
      def.source === 'inline'
        ? {
            kind: 'inline',
            text: def.rules,
            name: (def.set || def.name || `inline-${def.id}`).replace(SET_NAME, '_').slice(0, 64),
          }
        : {
            kind: def.source === 'folder' ? 'folder' : 'file',
            path: resolveRulePath(def.path, userDir()),
          };

    let runner: AlarmRulesRunner | undefined;
    const starting: Promise<AlarmRulesRunner> = (async () => {
      if (!registry) throw new Error(RED._('alarm-rules.errors.noRegistry'));
      const store = await registry.store();
      return AlarmRulesRunner.start({
        db: store.db,
        book: await alarmBookFor(store, RED.log),
        directory: await registry.directory(),
        source,
        defaultSite: process.env.SENSFLOW_SITE || 'UT3',
        logger,
        ports: {
          status: (s) => this.status(s),
          sendAlarm: (msg) => this.send([msg, null, null]),
          sendCommand: (msg) => this.send([null, msg, null]),
          rulesText: (rules) => RED._('alarm-rules.status.rules', { rules }),
        },
      });
    })();
    starting.then(
      (r) => (runner = r),
      (err: unknown) => {
        this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
        this.error(RED._('alarm-rules.errors.start', { error: errorMessage(err) }));
      },
    );

    // The evaluation output is for debugging: left unwired, it costs nothing.
    const evaluationWired = (def.wires?.[2]?.length ?? 0) > 0;
    const finish = (msg: NodeMessageInFlow, send: Send, done: Done, evaluation: Evaluation) => {
      if (evaluationWired) {
        (msg as NodeMessageInFlow & { evaluation: unknown }).evaluation = evaluation;
        send([null, null, msg]);
      }
      done();
    };
    const fail = (done: Done, err: unknown) => {
      this.status({ fill: 'red', shape: 'ring', text: errorMessage(err) });
      done(err instanceof Error ? err : new Error(String(err)));
    };

    this.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
      if (!runner) {
        starting
          .then((r) => r.handle(msg))
          .then(
            (evaluation) => finish(msg, send, done, evaluation),
            (err: unknown) => fail(done, err),
          );
        return;
      }
      let result: Evaluation | Promise<Evaluation>;
      try {
        result = runner.handle(msg);
      } catch (err) {
        fail(done, err);
        return;
      }
      // Readings from known places are evaluated at once: no promise on that path.
      if (result instanceof Promise)
        result.then(
          (evaluation) => finish(msg, send, done, evaluation),
          (err: unknown) => fail(done, err),
        );
      else finish(msg, send, done, result);
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      starting.then((r) => r.close()).then(done, done);
    });
  }

  RED.nodes.registerType('alarm-rules', AlarmRulesNode);

  // The editor's check of inline rules, with every problem described.
  RED.httpAdmin.post(
    '/alarm-rules/validate',
    RED.auth.needsPermission('alarm-rules.write'),
    (req, res) => {
      const text = (req.body as { rules?: unknown })?.rules;
      if (typeof text !== 'string') {
        res.status(400).json({ error: 'rules (text) is required' });
        return;
      }
      try {
        const set = compileRuleFile(text, 'inline rules', 'inline', operatorsOf(sensflowEngine()));
        res.json({ ok: true, rules: set.rules.length, problems: [] });
      } catch (err) {
        const problems =
          err instanceof RuleFileError ? err.problems.map(describeProblem) : [errorMessage(err)];
        res.json({ ok: false, rules: 0, problems });
      }
    },
  );

  // Rule files the editor can offer: the user's and the shipped examples.
  RED.httpAdmin.get(
    '/alarm-rules/files',
    RED.auth.needsPermission('alarm-rules.read'),
    (_req, res) => {
      const files = new Set<string>();
      for (const root of [userDir(), packageRoot()]) {
        try {
          for (const f of fs.readdirSync(path.join(root, 'rules'))) {
            if (f.endsWith('.json')) files.add(`rules/${f}`);
          }
        } catch {
          // No rules folder there.
        }
      }
      res.json([...files].sort());
    },
  );
};

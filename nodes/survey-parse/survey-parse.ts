// survey-parse: survey lines (`[ip ]HH:MM - T - H%`) in, one message per
// reading out; bad lines fail the message with one reason per line, after
// the good ones went out. lib/surveys/survey-line.ts does the parsing.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { surveyText } from '../../lib/surveys/batch';
import { describeProblems, parseSurveyLines, surveyTime } from '../../lib/surveys/survey-line';
import { surveyMetrics } from '../../lib/surveys/metrics';
import { errorMessage } from '../../lib/util/log';

type SurveyMessage = NodeMessageInFlow & {
  ip?: unknown;
  receivedAt?: unknown;
  badLines?: unknown;
};

export = function (RED: NodeAPI) {
  function SurveyParse(this: Node, def: NodeDef) {
    RED.nodes.createNode(this, def);
    let readings = 0;
    let bad = 0;
    const showCounts = () =>
      this.status({
        fill: bad > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: RED._('survey-parse.status.counts', { readings, bad }),
      });

    this.on('input', (msg: SurveyMessage, send, done) => {
      try {
        const text = surveyText(msg.payload);
        if (text === undefined) throw new Error(RED._('survey-parse.errors.payload'));
        const receivedAt = referenceTime(msg.receivedAt);
        const fallbackIp = typeof msg.ip === 'string' ? msg.ip : undefined;
        const { surveys, errors } = parseSurveyLines(text, fallbackIp);
        const out = surveys.map(({ line, ...survey }) => ({
          ...msg,
          payload: survey,
          topic: survey.ip,
          timestamp: surveyTime(survey.time, receivedAt),
          line,
        }));
        readings += out.length;
        if (out.length > 0) send([out]);
        if (errors.length > 0) {
          bad += errors.length;
          surveyMetrics.badLines.inc({ node: this.id }, errors.length);
          msg.badLines = errors;
          throw new Error(describeProblems(errors));
        }
        showCounts();
        done();
      } catch (err) {
        showCounts();
        done(err instanceof Error ? err : new Error(errorMessage(err)));
      }
    });

    function referenceTime(value: unknown): number {
      if (value === undefined) return Date.now();
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      throw new Error(RED._('survey-parse.errors.receivedAt'));
    }
  }
  RED.nodes.registerType('survey-parse', SurveyParse);
};

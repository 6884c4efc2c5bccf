// The MQTT rules on topic names and filters (MQTT 3.1.1 §4.7), with the
// stricter rules of topics.md: no empty level anywhere. Every problem is
// reported with the topic and the level at fault, so a flow author sees at
// once what to fix.

export class TopicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicError';
  }
}

/** MQTT's limit on a topic's UTF-8 length. */
const MAX_TOPIC_BYTES = 65_535;

function commonProblem(what: string, topic: unknown): string | null {
  if (typeof topic !== 'string') return `${what} must be a string, got ${typeof topic}`;
  if (topic === '') return `${what} is empty`;
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) {
    return `${what} is longer than ${MAX_TOPIC_BYTES} bytes`;
  }
  if (topic.includes('\u0000')) return `${what} "${shown(topic)}" contains a NUL character`;
  return null;
}

/** Why `topic` cannot be published to, or null when it can. */
export function topicProblem(topic: unknown): string | null {
  const common = commonProblem('topic', topic);
  if (common) return common;
  const levels = (topic as string).split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level === '') return `topic "${shown(topic)}": level ${i + 1} is empty`;
    if (level.includes('+') || level.includes('#')) {
      return `topic "${shown(topic)}": level ${i + 1} ("${level}") has a wildcard, which a publish topic may not contain`;
    }
  }
  return null;
}

/** Why `filter` is not a valid subscription filter, or null when it is. */
export function filterProblem(filter: unknown): string | null {
  const common = commonProblem('filter', filter);
  if (common) return common;
  const levels = (filter as string).split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    const at = `filter "${shown(filter)}": level ${i + 1}`;
    if (level === '') return `${at} is empty`;
    if (level.includes('+') && level !== '+') {
      return `${at} ("${level}") mixes + with other characters; + must be a whole level`;
    }
    if (level.includes('#')) {
      if (level !== '#') {
        return `${at} ("${level}") mixes # with other characters; # must be a whole level`;
      }
      if (i !== levels.length - 1) return `${at}: # may only be the last level`;
    }
  }
  return null;
}

/** Throws a TopicError unless `topic` is a valid publish topic. */
export function validateTopic(topic: unknown): string {
  const problem = topicProblem(topic);
  if (problem) throw new TopicError(problem);
  return topic as string;
}

/** Throws a TopicError unless `filter` is a valid subscription filter. */
export function validateFilter(filter: unknown): string {
  const problem = filterProblem(filter);
  if (problem) throw new TopicError(problem);
  return filter as string;
}

/** A topic as it may be shown in a message: bounded, control characters escaped. */
function shown(topic: unknown): string {
  const text = String(topic).replace(
    /[\u0000-\u001f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

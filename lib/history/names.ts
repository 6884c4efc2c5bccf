// Measurement and tag names as line protocol text: checked and escaped once
// per distinct name and remembered, because the same few names (a building,
// a room, a device) recur in every message.
import { checkKey, checkName, escapeKey, escapeMeasurement } from './line-protocol';
import { PointError } from './point';

/** Distinct names remembered per kind; beyond it the memory starts afresh. */
const LIMIT = 10_000;

export class NameText {
  private readonly measurements = new Map<string, string>();
  /** key → value → `,key=value`. */
  private readonly pairs = new Map<string, Map<string, string>>();
  private pairCount = 0;

  /** A measurement, escaped; a PointError when line protocol cannot carry it. */
  measurement(name: string): string {
    let text = this.measurements.get(name);
    if (text === undefined) {
      checkName('the measurement', name);
      if (name.startsWith('#')) {
        throw new PointError(`the measurement ${JSON.stringify(name)} starts with "#"`);
      }
      text = remember(this.measurements, name, escapeMeasurement(name));
    }
    return text;
  }

  /** `,key=value`, escaped; a PointError naming the tag when it cannot be written. */
  tag(key: string, value: string): string {
    let text = this.pairs.get(key)?.get(value);
    if (text === undefined) {
      checkKey('tag key', key);
      checkName(`tag ${key}`, value);
      text = ',' + escapeKey(key) + '=' + escapeKey(value);
      if (this.pairCount >= LIMIT) {
        this.pairs.clear();
        this.pairCount = 0;
      }
      let values = this.pairs.get(key);
      if (!values) this.pairs.set(key, (values = new Map()));
      values.set(value, text);
      this.pairCount += 1;
    }
    return text;
  }

  /** The tags as text, sorted by key, as InfluxDB prefers them. */
  tags(tags: Record<string, string>): string {
    let text = '';
    for (const key of sortKeys(Object.keys(tags))) text += this.tag(key, tags[key]);
    return text;
  }
}

function remember(map: Map<string, string>, name: string, text: string): string {
  if (map.size >= LIMIT) map.clear();
  map.set(name, text);
  return text;
}

/** Sorts a few keys in place (an insertion sort allocates nothing, unlike sort()). */
export function sortKeys(keys: string[]): string[] {
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > key) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

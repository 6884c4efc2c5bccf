// What a device's MQTT login may do (the same rules for the embedded broker
// and for Mosquitto's dynamic security): publish under its own base topic
// (`<base>/#`, which holds `<base>/device`), subscribe to the orders for its
// modules (`<base>/+/command`). Matching follows MQTT's wildcard rules
// (the topic library's matcher).
import { filterMatches } from '../topics/matcher';

/** The ACL patterns of a device at `base`, as Mosquitto's dynsec roles take them. */
export function deviceAcl(base: string): { publish: string; subscribe: string } {
  return { publish: `${base}/#`, subscribe: `${base}/+/command` };
}

/** True when every topic `filter` can match is allowed by `pattern` (a
 *  subscription is checked like Mosquitto's subscribePattern ACL). */
export function filterWithin(pattern: string, filter: string): boolean {
  const p = pattern.split('/');
  const f = filter.split('/');
  for (let i = 0; i < f.length; i++) {
    if (p[i] === '#') return true;
    if (i >= p.length || f[i] === '#') return false;
    if (p[i] === '+') continue;
    if (f[i] !== p[i]) return false;
  }
  return f.length === p.length;
}

export function devicePublishAllowed(base: string, topic: string): boolean {
  return !topic.startsWith('$') && filterMatches(deviceAcl(base).publish, topic);
}

export function deviceSubscribeAllowed(base: string, filter: string): boolean {
  return !filter.startsWith('$') && filterWithin(deviceAcl(base).subscribe, filter);
}

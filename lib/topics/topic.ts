// Sensflow's topic segmentation (topics.md): a topic is `<base>/<kind>` for
// data, `<base>/<kind>/command` for orders and `<base>/device` for a device's
// own status, where `<base>` is `<building>/<room>[/...]` at the default site,
// `outside[/...]` outdoors, and `abroad/<site>/...` at another site.
// `parseTopic` and `buildTopic` are exact inverses of each other.
import { TopicError, topicProblem } from './validate';

/** The fields of a topic. `location` holds the place levels after the site
 *  prefix (and after `outside`): `['u4', '300']`, `['ambient']`, `[]`. */
export interface TopicSegments {
  site: string;
  outdoor: boolean;
  location: string[];
  /** The first place level indoors, null outdoors. */
  building: string | null;
  /** The second place level indoors, null outdoors. */
  room: string | null;
  /** The module kind, e.g. `temperature`; `device` for a device's own topics. */
  kind: string;
  /** `<base>/<kind>/command`: an order. */
  command: boolean;
  /** `<base>/device`: the device's own status. */
  status: boolean;
}

/** A parsed topic also says what its base topic is (`u4/300`, `outside/ambient`). */
export interface ParsedTopic extends TopicSegments {
  base: string;
}

export type BaseSegments = Pick<
  TopicSegments,
  'site' | 'outdoor' | 'location' | 'building' | 'room'
>;

export const ABROAD = 'abroad';
export const OUTSIDE = 'outside';
export const COMMAND = 'command';
/** The pseudo-kind of a device's own topics: its status and its orders. */
export const DEVICE = 'device';

const SITE = /^[A-Za-z0-9_.:-]{1,64}$/;
const KIND = /^[a-z0-9][a-z0-9_-]*$/;

export function siteProblem(site: unknown): string | null {
  if (typeof site !== 'string' || !SITE.test(site)) {
    return `site "${String(site)}" must be 1-64 of A-Z a-z 0-9 _ . : -`;
  }
  return null;
}

export function kindProblem(kind: unknown): string | null {
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    return `kind "${String(kind)}" must be lower-case letters, digits, _ or -, starting with a letter or digit`;
  }
  if (kind === COMMAND) return `"${COMMAND}" is reserved and cannot be a kind`;
  return null;
}

/** A non-empty level without wildcards or NUL. (16,383 UTF-16 units are at
 *  most 65,535 UTF-8 bytes, MQTT's limit, so length needs no other check.) */
function plainLevel(level: string): boolean {
  return level !== '' && !level.includes('+') && !level.includes('#') && !level.includes('\u0000');
}

/** Parses and builds topics for one server, whose default site is `defaultSite`. */
export class TopicCodec {
  constructor(readonly defaultSite: string) {
    const problem = siteProblem(defaultSite);
    if (problem) throw new TopicError(`default ${problem}`);
  }

  /** The fields of `topic`; throws a TopicError naming what is wrong. */
  parse(topic: unknown): ParsedTopic {
    // The common case is checked level by level on one split; the full
    // diagnosis (topicProblem) runs only for a topic that fails it.
    let levels = typeof topic === 'string' && topic.length <= 16_383 ? topic.split('/') : null;
    if (!levels || !levels.every(plainLevel)) {
      const problem = topicProblem(topic);
      if (problem) throw new TopicError(problem);
      levels = (topic as string).split('/');
    }
    const text = topic as string;
    if (text.startsWith('$')) {
      throw new TopicError(`topic "${text}": topics starting with $ belong to the broker`);
    }
    const command = levels[levels.length - 1] === COMMAND;
    if (command) levels.pop();
    const kind = levels.pop();
    if (kind === undefined || levels.length === 0) {
      throw new TopicError(`topic "${text}" has no base topic before its kind`);
    }
    const kindIssue = kindProblem(kind);
    if (kindIssue) throw new TopicError(`topic "${text}": ${kindIssue}`);
    const b = this.parseBaseLevels(levels, text);
    // One object literal of fixed shape: this runs for every message routed.
    return {
      site: b.site,
      outdoor: b.outdoor,
      location: b.location,
      building: b.building,
      room: b.room,
      kind,
      command,
      status: kind === DEVICE && !command,
      base: text.slice(0, text.length - kind.length - 1 - (command ? COMMAND.length + 1 : 0)),
    };
  }

  /** The fields of a base topic such as `u4/300` or `abroad/carcassonne/outside`. */
  parseBase(base: unknown): BaseSegments & { base: string } {
    const problem = topicProblem(base);
    if (problem) throw new TopicError(problem.replace(/^topic/, 'base topic'));
    const text = base as string;
    return { ...this.parseBaseLevels(text.split('/'), text), base: text };
  }

  /** The topic with these fields; throws a TopicError when they name none. */
  build(segments: Partial<TopicSegments>): string {
    return [...this.baseLevels(segments), ...this.tailLevels(segments)].join('/');
  }

  /** The base topic of these fields, e.g. `u4/300`. */
  buildBase(segments: Partial<BaseSegments>): string {
    return this.baseLevels(segments).join('/');
  }

  private parseBaseLevels(levels: string[], topic: string): BaseSegments {
    let site = this.defaultSite;
    let rest = levels;
    if (rest[0] === ABROAD) {
      if (rest.length < 2)
        throw new TopicError(`topic "${topic}": ${ABROAD}/ must be followed by a site`);
      site = rest[1];
      const issue = siteProblem(site);
      if (issue) throw new TopicError(`topic "${topic}": ${issue}`);
      if (site === this.defaultSite) {
        throw new TopicError(
          `topic "${topic}": ${site} is the default site, written without the ${ABROAD}/ prefix`,
        );
      }
      rest = rest.slice(2);
    }
    if (rest[0] === OUTSIDE) {
      return { site, outdoor: true, location: rest.slice(1), building: null, room: null };
    }
    if (rest.length < 2) {
      throw new TopicError(
        `topic "${topic}": an indoor base topic names a building and a room, e.g. u4/300`,
      );
    }
    return { site, outdoor: false, location: rest, building: rest[0], room: rest[1] };
  }

  private baseLevels(s: Partial<BaseSegments>): string[] {
    const site = s.site ?? this.defaultSite;
    const siteIssue = siteProblem(site);
    if (siteIssue) throw new TopicError(siteIssue);
    const prefix = site === this.defaultSite ? [] : [ABROAD, site];
    const given: unknown = s.location ?? [s.building, s.room].filter((l) => l != null);
    if (!Array.isArray(given)) throw new TopicError('location must be a list of levels');
    given.forEach((level: unknown, i) => {
      if (typeof level !== 'string' || level === '' || /[+#/\u0000]/.test(level)) {
        throw new TopicError(
          `location level ${i + 1} ("${String(level)}") must be a non-empty string without / + # or NUL`,
        );
      }
    });
    const location = given as string[];
    if (s.outdoor) {
      if ((s.building ?? null) !== null || (s.room ?? null) !== null) {
        throw new TopicError('an outdoor location has no building or room');
      }
      return [...prefix, OUTSIDE, ...location];
    }
    if (location.length < 2) {
      throw new TopicError('an indoor location names a building and a room, e.g. u4/300');
    }
    if (location[0] === ABROAD || location[0] === OUTSIDE) {
      throw new TopicError(`"${location[0]}" is reserved and cannot name a building`);
    }
    if (
      (s.building !== undefined && s.building !== null && s.building !== location[0]) ||
      (s.room !== undefined && s.room !== null && s.room !== location[1])
    ) {
      throw new TopicError(
        `building "${s.building}" and room "${s.room}" disagree with location ${location.join('/')}`,
      );
    }
    return [...prefix, ...location];
  }

  private tailLevels(s: Partial<TopicSegments>): string[] {
    const command = s.command ?? false;
    if (s.status && command) throw new TopicError('a topic is a status or a command, not both');
    const kind = s.status ? (s.kind ?? DEVICE) : s.kind;
    if (kind === undefined) throw new TopicError('no kind given');
    const issue = kindProblem(kind);
    if (issue) throw new TopicError(issue);
    if (s.status && kind !== DEVICE) {
      throw new TopicError(`a status topic ends with /${DEVICE}, not with kind "${kind}"`);
    }
    if (s.status === false && kind === DEVICE && !command) {
      throw new TopicError(`<base>/${DEVICE} is a status topic: status cannot be false`);
    }
    return command ? [kind, COMMAND] : [kind];
  }
}

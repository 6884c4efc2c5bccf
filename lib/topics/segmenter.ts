// What the topic-segment node does, free of Node-RED: in parse mode, the
// fields of a topic and the outputs it goes to (by kind, or by filters matched
// with the trie); in build mode, the topic for a set of fields over defaults.
import { TopicMatcher } from './matcher';
import { DEVICE, kindProblem, ParsedTopic, TopicCodec, TopicSegments } from './topic';
import { TopicError, filterProblem } from './validate';

export type RouteBy = 'none' | 'kind' | 'filter';

export interface SegmenterOptions {
  routeBy: RouteBy;
  /** Kinds (routeBy `kind`) or filters (routeBy `filter`), one output each. */
  rules: readonly string[];
}

export interface Routed {
  segments: ParsedTopic;
  /** Indexes of the outputs the message goes to (the last one is "otherwise"). */
  outputs: number[];
}

const FIRST_ONLY = [0];

export class TopicSegmenter {
  /** Number of outputs: one per rule and one for "otherwise", or just one. */
  readonly outputs: number;
  private readonly byKind = new Map<string, number[]>();
  private readonly matcher = new TopicMatcher<number>();
  private readonly otherwise: number[];

  constructor(
    private readonly codec: TopicCodec,
    private readonly options: SegmenterOptions,
  ) {
    const { routeBy, rules } = options;
    if (!['none', 'kind', 'filter'].includes(routeBy)) {
      throw new TopicError(`unknown routing "${String(routeBy)}": expected none, kind or filter`);
    }
    rules.forEach((rule, i) => {
      if (routeBy === 'kind') {
        const problem = rule === DEVICE ? null : kindProblem(rule);
        if (problem) throw new TopicError(`rule ${i + 1}: ${problem}`);
        this.byKind.set(rule, [...(this.byKind.get(rule) ?? []), i]);
      } else if (routeBy === 'filter') {
        const problem = filterProblem(rule);
        if (problem) throw new TopicError(`rule ${i + 1}: ${problem}`);
        this.matcher.add(rule, i);
      }
    });
    this.outputs = routeBy === 'none' ? 1 : rules.length + 1;
    this.otherwise = [rules.length];
  }

  /** Parses `topic` and picks its outputs; throws a TopicError for a bad topic. */
  route(topic: unknown): Routed {
    const segments = this.codec.parse(topic);
    switch (this.options.routeBy) {
      case 'none':
        return { segments, outputs: FIRST_ONLY };
      case 'kind':
        return { segments, outputs: this.byKind.get(segments.kind) ?? this.otherwise };
      case 'filter': {
        const matched = this.matcher.match(topic as string);
        return { segments, outputs: matched.length > 0 ? matched : this.otherwise };
      }
    }
  }
}

export type TopicType = 'data' | 'command' | 'status';

export interface BuildDefaults {
  /** A base topic such as `u4/300`. */
  base?: string;
  kind?: string;
  type?: TopicType;
}

const BASE_FIELDS = ['site', 'outdoor', 'location', 'building', 'room'] as const;
const TAIL_FIELDS = ['kind', 'command', 'status'] as const;

/** Builds topics from `msg.segments`-style fields laid over node defaults. */
export class TopicComposer {
  private readonly defaults: Partial<TopicSegments>;

  constructor(
    private readonly codec: TopicCodec,
    defaults: BuildDefaults,
  ) {
    const type = defaults.type ?? 'data';
    if (!['data', 'command', 'status'].includes(type)) {
      throw new TopicError(
        `unknown topic type "${String(type)}": expected data, command or status`,
      );
    }
    this.defaults = {
      ...(defaults.base ? this.baseFields(defaults.base) : {}),
      ...(defaults.kind ? { kind: defaults.kind } : {}),
      command: type === 'command',
      ...(type === 'status' ? { status: true } : {}),
    };
  }

  /** The topic for `segments` (any subset of the parsed fields) over the
   *  defaults. `base` counts only when no location field is given. */
  build(segments: unknown): string {
    if (segments !== undefined && (typeof segments !== 'object' || segments === null)) {
      throw new TopicError('msg.segments must be an object of topic fields');
    }
    const given = (segments ?? {}) as Record<string, unknown>;
    const fields: Record<string, unknown> = { ...this.defaults };
    const hasLocation = BASE_FIELDS.some((k) => given[k] !== undefined);
    if (!hasLocation && given.base !== undefined) {
      for (const k of BASE_FIELDS) delete fields[k];
      Object.assign(fields, this.baseFields(given.base));
    }
    if (hasLocation) {
      // Location fields replace the default location as a whole, so a default
      // building never mixes with a given location.
      for (const k of BASE_FIELDS) delete fields[k];
      for (const k of BASE_FIELDS) if (given[k] !== undefined) fields[k] = given[k];
    }
    for (const k of TAIL_FIELDS) if (given[k] !== undefined) fields[k] = given[k];
    // A status flag given alone means the device topic, whatever the default kind.
    if (given.status === true && given.kind === undefined) delete fields.kind;
    if (given.status === true && given.command === undefined) fields.command = false;
    if (given.command === true && given.status === undefined) delete fields.status;
    return this.codec.build(fields as Partial<TopicSegments>);
  }

  private baseFields(base: unknown): Partial<TopicSegments> {
    const parsed = this.codec.parseBase(base);
    return {
      site: parsed.site,
      outdoor: parsed.outdoor,
      location: parsed.location,
      building: parsed.building,
      room: parsed.room,
    };
  }
}

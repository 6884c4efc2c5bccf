// Where an engine's rules come from: one file, every `.json` file of a
// folder, or inline JSON. Each file is a rule set named after it. A file is
// read again when it changes (the folder is watched, so an editor's
// write-and-rename is seen too); a file that no longer validates keeps its
// last good rules, and the problems are reported for the status to show.
import fs from 'node:fs';
import path from 'node:path';
import { Clock, systemClock, TimerHandle } from '../util/clock';
import { errorMessage } from '../util/log';
import { packageRoot } from '../util/package-root';
import type { OperatorLookup } from './operators';
import { compileRuleFile, RuleSet } from './rules';
import { RuleFileError, RuleProblem } from './validate';

export type RuleSourceSpec =
  | { kind: 'file'; path: string }
  | { kind: 'folder'; path: string }
  | { kind: 'inline'; text: string; name: string };

export interface Loaded {
  sets: RuleSet[];
  /** Problems of files that failed (their previous good rules, if any, are in `sets`). */
  problems: RuleProblem[];
}

const SET_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Rule ids are `<set>/<rule>`; a file's set is its name without `.json`. */
export const setNameOf = (file: string) => path.basename(file).replace(/\.json$/i, '');

/** A relative path names a file under the user directory, else one shipped
 *  with Sensflow (`rules/co2.json` finds the example when the user has none). */
export function resolveRulePath(p: string, userDir: string): string {
  if (path.isAbsolute(p)) return p;
  const own = path.resolve(userDir, p);
  if (fs.existsSync(own)) return own;
  const shipped = path.resolve(packageRoot(), p);
  return fs.existsSync(shipped) ? shipped : own;
}

export class RuleSource {
  private readonly good = new Map<string, RuleSet>();
  private watcher?: fs.FSWatcher;
  private timer?: TimerHandle;
  private readonly clock: Clock;

  constructor(
    readonly spec: RuleSourceSpec,
    private readonly ops: OperatorLookup,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** Reads and compiles every file now. */
  load(): Loaded {
    if (this.spec.kind === 'inline') return this.loadInline(this.spec);
    const problems: RuleProblem[] = [];
    let files: string[];
    const where = this.spec.path;
    if (this.spec.kind === 'file') files = [where];
    else {
      try {
        files = fs
          .readdirSync(where)
          .filter((f) => f.toLowerCase().endsWith('.json'))
          .sort()
          .map((f) => path.join(where, f));
      } catch (err) {
        problems.push({
          file: where,
          path: '',
          message: `cannot read the folder: ${errorMessage(err)}`,
        });
        files = [...this.good.keys()];
      }
      for (const file of [...this.good.keys()]) {
        if (!files.includes(file) && problems.length === 0) this.good.delete(file);
      }
    }
    files.forEach((file, i) => {
      const name = path.basename(file);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        problems.push({
          file: name,
          path: '',
          message: `cannot read the file: ${errorMessage(err)}`,
        });
        return;
      }
      this.compile(text, name, file, setNameOf(file), i, problems);
    });
    return { sets: files.flatMap((f) => this.good.get(f) ?? []), problems };
  }

  private loadInline(spec: { text: string; name: string }): Loaded {
    const problems: RuleProblem[] = [];
    this.compile(spec.text, 'inline rules', 'inline', spec.name, 0, problems);
    const set = this.good.get('inline');
    return { sets: set ? [set] : [], problems };
  }

  private compile(
    text: string,
    shown: string,
    key: string,
    setName: string,
    fileIndex: number,
    problems: RuleProblem[],
  ): void {
    if (!SET_NAME.test(setName)) {
      problems.push({
        file: shown,
        path: '',
        message: `"${setName}" is not a rule set name (A-Z a-z 0-9 _ . : -)`,
      });
      return;
    }
    try {
      this.good.set(key, compileRuleFile(text, shown, setName, this.ops, fileIndex * 100_000));
    } catch (err) {
      if (err instanceof RuleFileError) problems.push(...err.problems);
      else problems.push({ file: shown, path: '', message: errorMessage(err) });
    }
  }

  /** Calls `onChange` with the rules again after a file changes (debounced). */
  watch(onChange: (loaded: Loaded) => void, debounceMs = 200): void {
    if (this.spec.kind === 'inline') return;
    const dir = this.spec.kind === 'folder' ? this.spec.path : path.dirname(this.spec.path);
    const only = this.spec.kind === 'file' ? path.basename(this.spec.path) : undefined;
    try {
      this.watcher = fs.watch(dir, (_event, name) => {
        if (only && name !== null && name !== only) return;
        this.clock.clearTimeout(this.timer);
        this.timer = this.clock.setTimeout(() => onChange(this.load()), debounceMs);
      });
      // A folder that disappears must not crash the process.
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // Nothing to watch (missing folder): the status already says what is wrong.
    }
  }

  close(): void {
    this.clock.clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}

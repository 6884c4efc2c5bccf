// `sensflow flows validate|deploy`: flow files as JSON, checked and deployed
// without the editor. Exit codes: 0 valid / deployed, 1 problems found in the
// flow (nothing deployed), 2 bad usage, 3 the server could not be used
// (unreachable, login refused, deploy refused).
import fs from 'node:fs';
import { AdminApi, AdminApiError, BadUrlError, DeploymentType } from '../../../lib/flows/admin-api';
import { catalogFromNodeSets, NodeCatalog } from '../../../lib/flows/catalog';
import { DeployPlan, findTab, planFull, planTab } from '../../../lib/flows/deploy-plan';
import {
  FlowNode,
  FlowProblem,
  formatProblem,
  isTab,
  printable,
} from '../../../lib/flows/flow-file';
import { installedCatalog, UnreadableNodeSetError } from '../../../lib/flows/installed-types';
import { validateFlowText } from '../../../lib/flows/validate';
import { packageRoot } from '../../../lib/util/package-root';
import { parse, UsageError } from '../usage';

const USAGE = [
  'usage: sensflow flows validate FILE [--json] [--url URL [--user NAME] [--password-file FILE | --password-stdin]]',
  '       sensflow flows deploy FILE --url URL [--user NAME] [--password-file FILE | --password-stdin]',
  '                             [--tab NAME|ID] [--type full|nodes|flows] [--json]',
  'The password comes from --password-file, standard input (--password-stdin) or',
  'SENSFLOW_ADMIN_PASSWORD, never from the command line.',
  'Exit codes: 0 valid or deployed, 1 problems found (nothing deployed), 2 bad usage,',
  '3 the server could not be used (unreachable, login refused, deploy refused).',
].join('\n');

const LOGIN_OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  'password-stdin': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

type LoginValues = {
  url?: string;
  user?: string;
  'password-file'?: string;
  'password-stdin'?: boolean;
};

/** Exit code when the flow has problems. */
const PROBLEMS = 1;
/** Exit code when the server could not be used. */
const SERVER_FAILED = 3;

export async function flowsCommand(args: string[]): Promise<number | void> {
  const [action, ...rest] = args;
  try {
    if (action === 'validate') return await validateCommand(rest);
    if (action === 'deploy') return await deployCommand(rest);
  } catch (err) {
    if (!(err instanceof AdminApiError)) throw err;
    console.error(`sensflow: ${err.message}`);
    return SERVER_FAILED;
  }
  throw new UsageError(USAGE);
}

async function validateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, LOGIN_OPTIONS, true);
  const file = oneFile(positionals);
  const text = readFlowFile(file);
  if (!values.url) {
    if (values.user || values['password-file'] || values['password-stdin'])
      throw new UsageError('--user and the password go with --url');
    return report(file, text, installedTypes(), values.json);
  }
  return withServer(values, async (api) => {
    const catalog = catalogFromNodeSets(await api.nodeSets(), `the node types of ${api.url}`);
    return report(file, text, catalog, values.json);
  });
}

function installedTypes(): NodeCatalog {
  try {
    return installedCatalog(packageRoot());
  } catch (err) {
    // Its message says to check against a server (--url) instead.
    throw err instanceof UnreadableNodeSetError ? new UsageError(err.message) : err;
  }
}

function report(file: string, text: string, catalog: NodeCatalog, json?: boolean): number {
  const { nodes, problems } = validateFlowText(text, catalog);
  const tabs = nodes.filter(isTab).length;
  if (json) {
    const body = {
      file,
      valid: problems.length === 0,
      checkedAgainst: catalog.source,
      nodes: nodes.length,
      tabs,
      problems: problems.map(problemJson),
    };
    console.log(JSON.stringify(body, null, 2));
  } else {
    for (const problem of problems) console.log(`${file}: ${formatProblem(problem)}`);
    console.log(
      problems.length === 0
        ? `${file}: valid flow, ${plural(nodes.length, 'node')} on ${plural(tabs, 'tab')} (checked against ${catalog.source})`
        : `${file}: ${plural(problems.length, 'problem')} (checked against ${catalog.source})`,
    );
  }
  return problems.length === 0 ? 0 : PROBLEMS;
}

async function deployCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...LOGIN_OPTIONS, tab: { type: 'string' }, type: { type: 'string' } },
    true,
  );
  const file = oneFile(positionals);
  if (!values.url) throw new UsageError(`--url is required\n${USAGE}`);
  const type = deploymentType(values.type, values.tab);
  const text = readFlowFile(file);

  return withServer(values, async (api) => {
    // Checked against what this server has, before anything is sent: a flow
    // naming a type the server lacks would start half-way.
    const catalog = catalogFromNodeSets(await api.nodeSets(), `the node types of ${api.url}`);
    const { nodes, problems } = validateFlowText(text, catalog);
    if (problems.length > 0) return refuse(file, problems, api.url);

    let tab: FlowNode | undefined;
    if (values.tab !== undefined) {
      const found = findTab(nodes, values.tab);
      if (typeof found === 'string') throw new UsageError(`--tab: ${found}`);
      tab = found;
    }
    const server = await api.flows();
    const plan = tab ? planTab(nodes, tab, server.flows) : planFull(nodes, server.flows);
    if (plan.problems.length > 0) return refuse(file, plan.problems, api.url);

    const rev = await api.deploy(plan.flows, server.rev, type);
    printDeployed({ file, url: api.url, type, rev, plan }, values.json);
    return 0;
  });
}

function deploymentType(given: string | undefined, tab: string | undefined): DeploymentType {
  // A tab alone restarts only the flows that changed; a whole file restarts all.
  const type = given ?? (tab === undefined ? 'full' : 'flows');
  if (type !== 'full' && type !== 'nodes' && type !== 'flows')
    throw new UsageError(`--type: ${JSON.stringify(type)} is not one of full, nodes, flows`);
  return type;
}

function refuse(file: string, problems: FlowProblem[], url: URL): number {
  for (const problem of problems) console.error(`${file}: ${formatProblem(problem)}`);
  console.error(
    `sensflow: ${file}: ${plural(problems.length, 'problem')}; nothing deployed to ${url}`,
  );
  return PROBLEMS;
}

function printDeployed(
  done: { file: string; url: URL; type: DeploymentType; rev: string; plan: DeployPlan },
  json?: boolean,
): void {
  const { plan } = done;
  // Credentials are named by node, never shown.
  const credentials = plan.credentials.map((n) => ({ id: n.id, type: n.type }));
  if (json) {
    const { file, type, rev } = done;
    const body = {
      file,
      url: done.url.href,
      type,
      rev,
      tabs: plan.tabs,
      globals: plan.globals,
      credentials,
    };
    console.log(JSON.stringify(body, null, 2));
    return;
  }
  console.log(`Deployed ${done.file} to ${done.url} (${done.type} deploy, revision ${done.rev}):`);
  for (const tab of plan.tabs) {
    const label = tab.label === undefined ? '' : ` ${JSON.stringify(tab.label)}`;
    const why = tab.change === 'removed' ? ' (not in the file)' : '';
    console.log(
      `  tab ${printable(tab.id)}${label}: ${tab.change}${why}, ${plural(tab.nodes, 'node')}`,
    );
  }
  const { added, changed, removed } = plan.globals;
  console.log(
    `  config nodes and subflows: ${added} added, ${changed} changed, ${removed} removed`,
  );
  if (credentials.length > 0)
    console.log(
      `  credentials of ${credentials.map((c) => `${printable(c.id)} (${printable(c.type)})`).join(', ')} ` +
        'sent for the server to encrypt',
    );
}

/** Logs in when the server asks for it, runs `use`, and gives the token back. */
async function withServer(
  values: LoginValues,
  use: (api: AdminApi) => Promise<number>,
): Promise<number> {
  let api: AdminApi;
  try {
    api = new AdminApi(values.url!);
  } catch (err) {
    throw err instanceof BadUrlError ? new UsageError(err.message) : err;
  }
  const scheme = await api.loginScheme();
  if (scheme === 'strategy')
    throw new AdminApiError(
      `${api.url} logs in through a login strategy (e.g. OAuth), which a command line cannot follow`,
    );
  if (scheme === 'credentials') {
    // SENSFLOW_ADMIN_USER is the server's own default; --user overrides it.
    const user = values.user ?? process.env.SENSFLOW_ADMIN_USER ?? 'admin';
    await api.login(user, await adminPassword(values));
  }
  try {
    return await use(api);
  } finally {
    await api.logout().catch(() => undefined);
  }
}

/** The password, from a file, standard input or SENSFLOW_ADMIN_PASSWORD:
 *  never an argument, which other users of the machine could read. */
async function adminPassword(values: LoginValues): Promise<string> {
  const file = values['password-file'];
  if (file !== undefined && values['password-stdin'])
    throw new UsageError('give the password with --password-file or --password-stdin, not both');
  let password: string | undefined;
  if (file !== undefined) {
    try {
      password = fs.readFileSync(file, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new UsageError(
        `--password-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code})`,
      );
    }
  } else if (values['password-stdin']) {
    password = (await readStdin()).split(/\r?\n/)[0];
  } else {
    password = process.env.SENSFLOW_ADMIN_PASSWORD;
    if (password !== undefined && /^\$2[aby]\$\d\d\$/.test(password))
      throw new UsageError(
        'SENSFLOW_ADMIN_PASSWORD holds a bcrypt hash, which cannot log in: ' +
          'give the password with --password-file or --password-stdin',
      );
  }
  if (!password)
    throw new UsageError(
      'the server asks for a login: give the password in SENSFLOW_ADMIN_PASSWORD, ' +
        'a file (--password-file FILE) or standard input (--password-stdin)',
    );
  return password;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function oneFile(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(USAGE);
  return positionals[0];
}

/** A file that cannot be read is bad usage; one that is not a flow is a problem. */
function readFlowFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : code;
    throw new UsageError(`${file}: cannot read (${reason})`);
  }
}

function problemJson(problem: FlowProblem) {
  return { code: problem.code, message: problem.message, ...problem.node };
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

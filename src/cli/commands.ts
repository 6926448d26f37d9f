// Every thought-probe command with its arguments, options and description, and nothing heavy: each action
// loads its implementation (src/cli/<command>.ts, with the Temporal client, the worker, openai, vega...)
// only when that command runs, so `--help` and `config check` start fast. Type-only imports cost nothing at
// run time; anything else imported here is loaded by every command (`npm run bench:cli` lists what each loads).
import { join } from 'node:path';
import type { Command } from 'commander';
import type { FaultRule } from '../sim/types';
import type { CompareCliOptions } from './compare';
import type { PowerCliOptions } from './power';
import { InputError } from './errors';

const root = join(__dirname, '..', '..');

// The implementations, loaded on first use. A plain `require`, not `import()`: tsc (commonjs) and swc turn
// both into require, but tsx's CommonJS hook leaves `import()` a native ESM import, which cannot resolve
// './run' without an extension.
/* eslint-disable @typescript-eslint/no-require-imports */
const impl = {
  run: () => require('./run') as typeof import('./run'),
  status: () => require('./status') as typeof import('./status'),
  resume: () => require('./resume') as typeof import('./resume'),
  debug: () => require('./debug') as typeof import('./debug'),
  history: () => require('./history') as typeof import('./history'),
  replay: () => require('./replay') as typeof import('./replay'),
  worker: () => require('./worker') as typeof import('./worker'),
  demo: () => require('./demo') as typeof import('./demo'),
  analyze: () => require('./analyze') as typeof import('./analyze'),
  compare: () => require('./compare') as typeof import('./compare'),
  config: () => require('./config') as typeof import('./config'),
  dataset: () => require('./dataset') as typeof import('./dataset'),
  sim: () => require('./sim') as typeof import('./sim'),
  codecServer: () => require('./codecServer') as typeof import('./codecServer'),
  store: () => require('./store') as typeof import('./store'),
  export: () => require('./export') as typeof import('./export'),
  view: () => require('./view') as typeof import('./view'),
  power: () => require('./power') as typeof import('./power'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

const collect = (value: string, previous: string[]) => [...previous, value];

function collectFaults(value: string, prev: FaultRule[]): FaultRule[] {
  return [...prev, JSON.parse(value) as FaultRule];
}

function positive(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`${name}: must be a whole number of at least 1, got "${v}"`);
    return n;
  };
}

function portNumber(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InputError(`--port: must be a port number from 0 to 65535 (0 = a free one), got "${v}"`);
  return n;
}

/** Registers every command on the program, in the order `thought-probe --help` lists them. */
export function registerCommands(program: Command): void {
  program
    .command('run')
    .argument('<config>', 'run config (YAML or JSON)')
    .description('validate a config, start the run on Temporal, follow it, and print its report')
    .option('--detach', 'start the run and return at once')
    .option('--id <runId>', 'run id (default: the config name, or name-N when taken)')
    .action(async (file: string, opts: { detach?: boolean; id?: string }) => impl.run().runCommand(file, opts));

  program
    .command('status')
    .argument('<runId>')
    .description('show a run\'s progress per arm and stage, and what is retrying')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { json?: boolean }) => impl.status().statusCommand(runId, opts));
  program
    .command('result')
    .argument('<runId>')
    .description('wait for a run and print its report and artifact paths')
    .action(async (runId: string) => impl.status().resultCommand(runId));

  program
    .command('resume')
    .argument('<runId>')
    .description('continue a paused run, or restart a failed or terminated one reusing every stored result')
    .option('--config <file>', 'a fixed config for the new run (generations are reused where arm, prompt and sampling are unchanged)')
    .option('--detach', 'return once the new run has started')
    .action(async (runId: string, opts: { config?: string; detach?: boolean }) => impl.resume().resumeCommand(runId, opts));

  program
    .command('debug')
    .argument('<runId>')
    .description('diagnose a run and its arms: failures, retrying and paused activities, stuck workflow tasks, and what to do next')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { json?: boolean }) => impl.debug().debugCommand(runId, opts));

  program
    .command('history')
    .argument('<runId>')
    .description('export a run\'s event history (and its arm children\'s) as proto JSON, the format of `temporal workflow show --output json`, for `thought-probe replay`')
    .option('--out <file>', 'write to this file, or with --children to this directory (one <workflowId>.json each, `/` as `__`); default: stdout')
    .option('--children', 'also export the histories of the child workflows (arms) the run started')
    .action(async (runId: string, opts: { out?: string; children?: boolean }) => impl.history().historyCommand(runId, opts));

  program
    .command('replay')
    .argument('[files...]', 'history JSON files (from `thought-probe history` or `temporal workflow show --output json`)')
    .option('--run <runId>', 'replay a run and its arm children, fetching their histories from Temporal')
    .description('replay histories with the current workflow code; prints OK per workflow or where it is nondeterministic (exit 1)')
    .action(async (files: string[], opts: { run?: string }) => impl.replay().replayCommand(files, opts));

  program
    .command('worker')
    .description('poll the thought-probe task queue (and any --task-queue) and run workflows and activities')
    .option('--task-queue <queue...>', 'extra task queues, for arms routed to this worker')
    .option('--max-activities <n>', 'most activities at once (each carries several requests)', (v) => Number(v))
    .option('--no-run-queue', 'poll only the --task-queue queues, not the run queue (a GPU host that serves only its arms or judge)')
    .option('--store-url-env <name>', "environment variable holding the PostgreSQL store's URL; when set, the store's schema is migrated at start", 'THOUGHT_PROBE_DATABASE_URL')
    .option('--identity <id>', 'the identity Temporal shows for this worker (in histories, errors and `status`; default <pid>@<host>)')
    .option('--metrics-port <port>', 'serve Prometheus metrics on GET /metrics at this port: the Temporal SDK runtime\'s and the probe\'s per endpoint (0 = random)')
    .option('--metrics-host <host>', 'address the metrics port binds', '0.0.0.0')
    .action(async (opts: { taskQueue?: string[]; maxActivities?: number; runQueue: boolean; storeUrlEnv: string; identity?: string; metricsPort?: string; metricsHost?: string }) => impl.worker().workerCommand(opts));

  program
    .command('demo')
    .description('run the note-shaped experiment end to end on a local dev server and simulated endpoints')
    .option('--config <file>', 'demo config', join(root, 'examples/demo.yaml'))
    .option('--latency-ms <ms>', 'simulated latency per request', (v) => Number(v), 100)
    .action(async (opts: { config: string; latencyMs: number }) => impl.demo().demoCommand(opts));

  program
    .command('analyze')
    .description('compute summary.json, report.md and report.html from a samples.jsonl')
    .requiredOption('--samples <file>', 'samples.jsonl written by a run or by hand')
    .requiredOption('--out <dir>', 'directory for summary.json, report.md and report.html')
    .option('--run-id <id>', 'run id to put in the summary', 'analyze')
    .action(async (opts: { samples: string; out: string; runId: string }) => impl.analyze().analyzeCommand(opts));

  program
    .command('compare')
    .description('paired comparison of two runs on their shared prefixes: B − A per arm and condition, with bootstrap CI and exact tests')
    .argument('<RUN_A>', 'run directory (with samples.jsonl) or a samples.jsonl: the reference')
    .argument('<RUN_B>', 'run directory (with samples.jsonl) or a samples.jsonl: compared with A')
    .option('--arm <name>', 'compare only this arm (repeatable); default: every arm present in both runs', collect, [])
    .option('--arm-a <name>', 'arm of RUN_A to compare with --arm-b of RUN_B')
    .option('--arm-b <name>', 'arm of RUN_B to compare with --arm-a of RUN_A')
    .option('--seed <n>', 'seed of the bootstrap and permutation draws', '4337')
    .option('--out <dir>', 'also write compare.json and compare.md into this directory')
    .action(async (runA: string, runB: string, opts: CompareCliOptions) => impl.compare().compareCommand(runA, runB, opts));

  program
    .command('power')
    .description('how many prefixes a claim needs: per arm and condition, the observed sensitivity, the SD of the prefix differences, the minimum detectable effect and the prefixes needed (paired normal approximation)')
    .option('--samples <file>', 'samples.jsonl of a run (a pilot) or written by hand')
    .option('--run <runId>', "a run's records, read from its store")
    .option('--effect <d>', 'the effect to detect (default: the observed sensitivity)')
    .option('--alpha <a>', 'two-sided significance level', '0.05')
    .option('--power <p>', 'power', '0.8')
    .option('--json', 'print JSON: { arm: { condition: { effect, sd, prefixes, minimumDetectableEffect, prefixesNeeded } } }')
    .action(async (opts: PowerCliOptions) => impl.power().powerCommand(opts));

  const config = program.command('config').description('check, resolve and describe run configs');
  config
    .command('check')
    .argument('<file>', 'run config (YAML or JSON)')
    .description('validate a config; exit 2 listing every problem as path.to.field: what is wrong')
    .action(async (file: string) => impl.config().configCheck(file));
  config
    .command('resolve')
    .argument('<file>', 'run config (YAML or JSON)')
    .description("print the resolved config as JSON (input for temporal workflow start --input-file); the dataset rows go into the run's store and the config carries their reference")
    .option('--inline', 'keep the dataset rows inline in the config (inputs over 256 KB draw warnings from Temporal)')
    .action(async (file: string, opts: { inline?: boolean }) => impl.config().configResolve(file, opts));
  config
    .command('schema')
    .description('print (or write) the JSON Schema of run configs')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { out?: string }) => impl.config().configSchema(opts));

  const dataset = program.command('dataset').description('prepare held-out datasets');
  dataset
    .command('split')
    .argument('<docs>', 'JSONL of documents {"id", "text", "sourceId"?}')
    .description('cut documents into rows {id, prefix, suffix, sourceId} of exact word counts')
    .requiredOption('--prefix-words <n>', 'words per prefix', positive('--prefix-words'))
    .requiredOption('--suffix-words <n>', 'words per true suffix', positive('--suffix-words'))
    .option('--out <file>', 'write the rows here instead of stdout')
    .action(async (file: string, opts: { prefixWords: number; suffixWords: number; out?: string }) => impl.dataset().datasetSplit(file, opts));

  program
    .command('export')
    .argument('<run-id>', 'the run (its workflow id)')
    .description("write a run's artifacts from its store (samples.jsonl, summary.json, report.md, report.html) on any host that reaches Temporal and the store")
    .requiredOption('--out <dir>', 'directory to write them into')
    .action(async (runId: string, opts: { out: string }) => impl.export().exportCommand(runId, opts));

  program
    .command('view')
    .argument('[runIds...]', 'runs to serve (default: every run Temporal lists)')
    .description('a read-only local web server over runs: the run list, each run\'s charts and tables, and every sample, paged and searchable (running runs too)')
    .option('--port <port>', 'port to listen on (0 = a free one)', portNumber, 8484)
    .option('--host <host>', 'address to bind (another than 127.0.0.1 makes the runs readable from the network)', '127.0.0.1')
    .action(async (runIds: string[], opts: { port: number; host: string }) => impl.view().viewCommand(runIds, opts));

  const store = program.command('store').description('manage the run store in PostgreSQL');
  store
    .command('migrate')
    .description('create or upgrade the run store\'s schema in PostgreSQL (idempotent; workers also run it at start)')
    .option('--url-env <name>', 'environment variable holding the store\'s postgres:// URL', 'THOUGHT_PROBE_DATABASE_URL')
    .action(async (opts: { urlEnv: string }) => impl.store().storeMigrate(opts));

  program
    .command('codec-server')
    .description("Temporal's codec-server protocol (/encode, /decode, CORS) with the keys in $THOUGHT_PROBE_CODEC_KEYS, for the web UI and `temporal --codec-endpoint`")
    .option('--port <port>', 'port to listen on (0 = random)', '8888')
    .option('--host <host>', 'host to bind', '127.0.0.1')
    .option('--cors-origin <origin>', 'an origin of the web UI allowed to call it (repeatable; default any: *)', collect, [])
    .action(async (opts: { port: string; host: string; corsOrigin: string[] }) => impl.codecServer().codecServerCommand(opts));

  program
    .command('sim')
    .description('run the SIMULATED OpenAI-compatible server (arms + judge) used by the demo and tests')
    .option('--port <port>', 'port to listen on (0 = random)', '8000')
    .option('--host <host>', 'host to bind', '127.0.0.1')
    .requiredOption('--dataset <file>', 'JSONL rows {id, prefix, suffix}')
    .option('--judge-model <name>', 'judge model name', 'qwen-judge')
    .option('--arm-models <list>', 'comma-separated arm model names')
    .option('--latency-ms <n>', 'fixed latency per request', '0')
    .option('--api-key <key>', 'require this bearer token')
    .option('--judge-invalid-rate <r>', 'probability of an invalid judge answer', '0')
    .option('--extra-judge <name=rate>', 'another judge model that gives the opposite score with this probability (repeatable)', collect, [] as string[])
    .option('--paraphrase-model <name>', 'a chat model that paraphrases thoughts (for paraphrased_thought)')
    .option('--fault <json>', 'fault rule as JSON (repeatable)', collectFaults, [] as FaultRule[])
    .action(async (o: Record<string, string | FaultRule[] | undefined>) => impl.sim().simCommand(o));
}

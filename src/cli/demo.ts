import { join } from 'node:path';
import { codecFromEnv } from '../codec';
import { resolveConfigFile } from '../config/load';
import type { RunConfig } from '../config/schema';
import { spawnSim } from '../sim/process';
import { interventionSpecs } from '../experiment/interventions';
import type { FaultRule, SimStats } from '../sim/types';
import { ensureDevServer } from '../workers/devServer';
import type { Worker } from '@temporalio/worker';
import { createWorkers } from '../workers/worker';
import { follow } from './follow';
import { printResult, startRun } from './run';
import { connectClient, uiLink } from './temporal';
import type { ProbeRunResult } from '../workflows/api';

const root = join(__dirname, '..', '..');

/** Options of a demo run. */
export interface DemoOptions {
  config: string;
  latencyMs: number;
  quiet?: boolean;
  print?: boolean;
  /** Faults for the simulated endpoints (benchmarks of outages). */
  faults?: FaultRule[];
  /** Rows the simulated endpoints know (default examples/data/heldout.jsonl). */
  dataset?: string;
  /** Workers already running in this process (a long-lived worker, as deployed): used, not created or stopped. */
  workers?: Worker[];
}

/** Points every arm, judge and paraphraser of a config at one simulated server. */
export function pointAtSim(config: RunConfig, url: string): RunConfig {
  const pointed: RunConfig = { ...config, arms: config.arms.map((a) => ({ ...a, baseURL: url })), judge: { ...config.judge, baseURL: url } };
  // Only configs that have them gain these keys: the demo's own config is passed on as it always was.
  if (config.judges) pointed.judges = config.judges.map((j) => ({ ...j, baseURL: url }));
  if (interventionSpecs(config.conditions).some((s) => s.intervention === 'paraphrased_thought')) {
    pointed.conditions = config.conditions.map((c) => (typeof c !== 'string' && c.intervention === 'paraphrased_thought' ? { ...c, paraphraser: { ...c.paraphraser, baseURL: url } } : c));
  }
  return pointed;
}

/** How often the simulated extra judges of a demo disagree with the main one. */
const DEMO_DISAGREE_RATE = 0.15;

/**
 * A complete run on the embedded default: a local Temporal dev server (reused or started), the simulated
 * endpoints and a worker in this process. Returns the result and the run's wall time.
 */
export async function runDemo(opts: DemoOptions): Promise<{ result: ProbeRunResult; ms: number; runId: string; simStats: SimStats }> {
  const say = (s: string) => !opts.quiet && process.stderr.write(`${s}\n`);
  // Bad codec keys are bad input: said before a server or the simulated endpoints start.
  codecFromEnv();
  const server = await ensureDevServer(say);
  if (server.started) say(`Temporal dev server started (pid ${server.pid}, log ${server.log}); it keeps running for the UI. Stop it with: kill ${server.pid}`);
  const base = resolveConfigFile(opts.config);
  // The endpoints run in their own process, as model servers would, so they do not share this one's CPU time.
  const paraphraser = interventionSpecs(base.conditions).find((s) => s.intervention === 'paraphrased_thought');
  const sim = await spawnSim({
    dataset: opts.dataset ?? join(root, 'examples/data/heldout.jsonl'), latencyMs: opts.latencyMs, armModels: base.arms.map((a) => a.model), judgeModel: base.judge.model, faults: opts.faults,
    ...(base.judges ? { extraJudges: Object.fromEntries(base.judges.map((j) => [j.model, DEMO_DISAGREE_RATE])) } : {}),
    ...(paraphraser?.intervention === 'paraphrased_thought' ? { paraphraseModel: paraphraser.paraphraser.model } : {}),
  });
  say(`simulated endpoints (SIMULATION) at ${sim.url}, ${opts.latencyMs} ms per request`);
  const own = opts.workers === undefined;
  const workers = opts.workers ?? (await createWorkers({ taskQueues: [...base.arms.map((a) => a.taskQueue), ...(base.judge.taskQueue ? [base.judge.taskQueue] : [])] }));
  const running = own ? workers.map((w) => w.run()) : [];
  try {
    const client = await connectClient();
    const runId = `${base.name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
    const started = Date.now();
    const handle = await startRun(client, pointAtSim(base, sim.url), runId);
    say(`run ${runId}: ${uiLink(client.options.namespace, runId)}`);
    const result = await follow(handle, opts.quiet);
    const ms = Date.now() - started;
    if (opts.print !== false) {
      printResult(result);
      process.stdout.write(`\ncompleted in ${(ms / 1000).toFixed(1)} s (simulated endpoints); Temporal UI: ${uiLink(client.options.namespace, runId)}\n`);
      process.stdout.write(`${viewHint(result.artifacts.html, runId)}\n`);
    }
    return { result, ms, runId, simStats: await sim.stats() };
  } finally {
    if (own) workers.forEach((w) => w.shutdown());
    await Promise.all(running);
    await sim.stop();
  }
}

/** Where the run's report is, and the command that serves every sample of it from the store. */
export function viewHint(html: string, runId: string): string {
  return `report: ${html}\nbrowse every sample (read-only, http://127.0.0.1:8484): npx thought-probe view ${runId}`;
}

/** `thought-probe demo` (its arguments and options are in ./commands, which loads this module to run it). */
export async function demoCommand(opts: { config: string; latencyMs: number }): Promise<void> {
  await runDemo({ config: opts.config, latencyMs: opts.latencyMs });
  // The worker's native runtime may hold the loop open a moment longer than needed.
  process.exit(0);
}

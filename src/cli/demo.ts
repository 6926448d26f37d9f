import { join } from 'node:path';
import { codecFromEnv } from '../codec';
import { resolveConfigFile } from '../config/load';
import type { RunConfig } from '../config/schema';
import { spawnSim } from '../sim/process';
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

/** Points every arm and the judge of a config at one simulated server. */
export function pointAtSim(config: RunConfig, url: string): RunConfig {
  return { ...config, arms: config.arms.map((a) => ({ ...a, baseURL: url })), judge: { ...config.judge, baseURL: url } };
}

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
  const sim = await spawnSim({ dataset: opts.dataset ?? join(root, 'examples/data/heldout.jsonl'), latencyMs: opts.latencyMs, armModels: base.arms.map((a) => a.model), judgeModel: base.judge.model, faults: opts.faults });
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
    }
    return { result, ms, runId, simStats: await sim.stats() };
  } finally {
    if (own) workers.forEach((w) => w.shutdown());
    await Promise.all(running);
    await sim.stop();
  }
}

/** `thought-probe demo` (its arguments and options are in ./commands, which loads this module to run it). */
export async function demoCommand(opts: { config: string; latencyMs: number }): Promise<void> {
  await runDemo({ config: opts.config, latencyMs: opts.latencyMs });
  // The worker's native runtime may hold the loop open a moment longer than needed.
  process.exit(0);
}

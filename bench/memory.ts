// A worker's memory and the largest history at scale, by store: the scale shape (examples/demo.yaml with more
// prefixes: 320 is ten times the note, 960 thirty times) run with `store: { kind: postgres }` (and, when asked,
// `kind: file`) on the simulated endpoints, with the worker in a process of its own, as deployed
// (`thought-probe worker`), so its peak RSS (VmHWM) is its own and not the bench's, the sim's or an earlier run's.
// The dataset goes by reference, as `thought-probe run` sends it. Per run: makespan, calls/s, the worker's peak
// RSS, and the largest history over every execution of the run (children and continue-as-new chains included).
//
//   npm run bench:memory -- [--prefixes 320,960] [--stores postgres,file] [--latency-ms 0]
//
// Writes bench/results/memory.json. Not part of the test suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { pointAtSim } from '../src/cli/demo';
import { startRun } from '../src/cli/run';
import { connectClient } from '../src/cli/temporal';
import { resolveConfigFile } from '../src/config/load';
import { referenceDataset } from '../src/store/datasets';
import { closePostgresPools, postgresPool } from '../src/store/postgres';
import { migrate } from '../src/store/migrate';
import { ensureDevServer } from '../src/workers/devServer';
import { startPostgres } from '../test/helpers/postgres';
import { plannedCalls, root, spawnSimFor, strArg } from './lib';
import { SCALE_LIMITS, runExecutions, scaleRows } from './scale';

const URL_ENV = 'THOUGHT_PROBE_DATABASE_URL';
const out = join(root, 'bench/results');
const say = (s: string) => process.stderr.write(`${s}\n`);
const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;

/** Peak and current resident set of a process, from /proc (VmHWM is the kernel's own high-water mark). */
function memoryOf(pid: number): { peakBytes: number; rssBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { peakBytes: kb('VmHWM'), rssBytes: kb('VmRSS') };
}

/** `thought-probe worker` in its own process, resolved once it polls. */
function startWorker(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  // --worker-node-options '--max-old-space-size=256' tells live memory from heap V8 let grow.
  const nodeOptions = strArg('worker-node-options', '');
  if (nodeOptions) env = { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} ${nodeOptions}`.trim() };
  const child = spawn(process.execPath, [join(root, 'bin/thought-probe.js'), 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const seen = (b: Buffer) => {
      log += b.toString();
      if (log.includes('worker polling')) resolve(child);
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before polling:\n${log}`)));
  });
}

/** One run of the scale shape with one store, measured. */
async function memoryRun(prefixes: number, store: 'file' | 'postgres', latencyMs: number, dbUrl: string) {
  const dir = join(out, 'memory-runs');
  mkdirSync(dir, { recursive: true });
  const dataset = join(dir, `data-${prefixes}.jsonl`);
  writeFileSync(dataset, scaleRows(prefixes));
  const doc = parse(readFileSync(join(root, 'examples/demo.yaml'), 'utf8')) as Record<string, unknown> & { dataset: Record<string, unknown> };
  doc.name = `memory-${store}-${prefixes}`;
  doc.dataset = { ...doc.dataset, path: dataset, limit: prefixes };
  doc.output = { dir };
  doc.store = store === 'postgres' ? { kind: 'postgres', urlEnv: URL_ENV } : { kind: 'file' };
  const file = join(dir, `memory-${store}-${prefixes}.yaml`);
  writeFileSync(file, stringify(doc));
  const env = { ...process.env, [URL_ENV]: dbUrl };
  const resolved = resolveConfigFile(file);
  const sim = await spawnSimFor(resolved, latencyMs);
  const worker = await startWorker(env);
  try {
    const client = await connectClient();
    const config = await referenceDataset(pointAtSim(resolved, sim.url), env);
    const runId = `${doc.name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
    const inputBytes = Buffer.byteLength(JSON.stringify(config));
    const started = Date.now();
    // The worker's RSS over the run, and the phase the run was in, to tell the arms' share from the artifacts'.
    const timeline: { s: number; rssMb: number; phase: string }[] = [];
    let phase = 'starting';
    const handle = await startRun(client, config, runId);
    const sampler = setInterval(() => {
      timeline.push({ s: (Date.now() - started) / 1000, rssMb: Math.round(memoryOf(worker.pid!).rssBytes / 1024 / 1024), phase });
      handle.query<{ phase: string }>('progress').then((p) => (phase = p.phase), () => undefined);
    }, 1000);
    const result = await handle.result();
    clearInterval(sampler);
    const ms = Date.now() - started;
    const peakIn = (p: string) => Math.max(0, ...timeline.filter((t) => t.phase === p).map((t) => t.rssMb));
    const mem = memoryOf(worker.pid!);
    const { stats } = await runExecutions(client, runId);
    const byEvents = stats.reduce((a, b) => (b.events > a.events ? b : a));
    const byBytes = stats.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const calls = plannedCalls(resolved).total;
    return {
      store, prefixes, runId, judged: result.summary.scale.judgedSuffixes, inputBytes,
      makespanSeconds: ms / 1000, callsPerSecond: calls / (ms / 1000),
      workerPeakRssBytes: mem.peakBytes, workerRssAtEndBytes: mem.rssBytes,
      workerPeakRssMbByPhase: { running: peakIn('running'), writing: peakIn('writing') }, timeline,
      largestHistory: { events: byEvents.events, eventsWorkflowId: byEvents.workflowId, bytes: byBytes.bytes, bytesWorkflowId: byBytes.workflowId },
      executions: stats.length,
      continuedAsNew: stats.reduce((a, s) => a + s.continuedAsNew, 0),
      withinHistoryLimits: byEvents.events < SCALE_LIMITS.historyEvents && byBytes.bytes < SCALE_LIMITS.historyBytes,
    };
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await sim.stop();
  }
}

async function main(): Promise<void> {
  const sizes = strArg('prefixes', '320,960').split(',').map(Number);
  const stores = strArg('stores', 'postgres').split(',') as ('file' | 'postgres')[];
  const latencyMs = Number(strArg('latency-ms', '0'));
  await ensureDevServer(say);
  const pg = await startPostgres();
  await migrate(postgresPool(pg.url));
  const runs = [];
  try {
    for (const n of sizes) {
      for (const store of stores) {
        say(`${store} store, ${n} prefixes, ${latencyMs} ms per request...`);
        const r = await memoryRun(n, store, latencyMs, pg.url);
        say(`  ${r.judged} judged in ${r.makespanSeconds.toFixed(1)} s; worker peak RSS ${mb(r.workerPeakRssBytes)} (sampled: ${r.workerPeakRssMbByPhase.running} MB while the arms ran, ${r.workerPeakRssMbByPhase.writing} MB writing artifacts); largest history ${r.largestHistory.events} events, ${mb(r.largestHistory.bytes)}; ${r.continuedAsNew} continue-as-new`);
        runs.push(r);
      }
    }
  } finally {
    await closePostgresPools();
    await pg.stop();
  }
  process.stdout.write('\n| store | prefixes | judged suffixes | makespan | calls/s | worker peak RSS | largest history (events, bytes) | executions (continued as new) | input |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
  for (const r of runs) {
    process.stdout.write(`| ${r.store} | ${r.prefixes} | ${r.judged} | ${r.makespanSeconds.toFixed(1)} s | ${r.callsPerSecond.toFixed(0)} | ${mb(r.workerPeakRssBytes)} | ${r.largestHistory.events}, ${(r.largestHistory.bytes / 1024 / 1024).toFixed(2)} MB | ${r.executions} (${r.continuedAsNew}) | ${(r.inputBytes / 1024).toFixed(0)} KB |\n`);
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'memory.json'), `${JSON.stringify({ date: new Date().toISOString(), latencyMs, runs }, null, 2)}\n`);
  say(`results in ${join(out, 'memory.json')}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});

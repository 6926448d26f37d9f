// The wide shapes of `npm run bench` (issue 16): thought-probe as a user runs it (its own `thought-probe worker`
// process, started before any timing and waited for until it polls; the run started through the Temporal client
// and followed to its result) beside the simplest script a researcher would write (bench/plain.ts with
// transport `fetch`: a promise pool per endpoint with the same caps, one plain non-streaming fetch per call) and
// beside today's streaming plain runner, each plain run in a fresh process of its own (bench/plain-child.ts), in
// alternating order, medians of --runs. Each run gets its own simulated
// server in its own process. Per run: makespan, the servers' lower bound, CPU seconds of every process (the
// worker, the Temporal server, the simulated endpoints, this process). Then the start-up of fresh workers: spawn to
// "worker polling", the first run on it and the next one. Not part of the test suite.
//
//   npm run bench -- --wide                       every shape below, then start-up
//   npm run bench -- --wide --shapes 128x256@1000,0   only some shapes (caps per arm x judge @ latency ms)
//   npm run bench -- --wide --no-start-up         the shapes without the start-up part
//   options: --runs 3, --start-ups 3, --worker-args "…" (extra arguments of `thought-probe worker`),
//            --worker-node-args "…" (node's arguments for the worker, e.g. --cpu-prof --cpu-prof-dir=/tmp/prof),
//            --start-up-env THOUGHT_PROBE_WARM=0[,K=V…]  fresh workers with that environment too, alternating
//            --probe-also generation.stream=always[,key=value…]  one more thought-probe runner per setting, its run
//            config changed so, in the same rounds (one change measured side by side with today's default)
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { follow } from '../src/cli/follow';
import { pointAtSim } from '../src/cli/demo';
import { startRun } from '../src/cli/run';
import { connectClient } from '../src/cli/temporal';
import type { RunConfig } from '../src/config/schema';
import { cpuBetween, cpuMark, lowerBound, machineCores, median, plannedCalls, procCpuSeconds, root, sameScience, spawnSimFor, temporalServerPid, type CpuWindow } from './lib';
import type { PlainTransport } from './plain';
import type { Summary } from '../src/experiment/summary';
import type { SimStats } from '../src/sim';
import { runTimeline, type RunTimeline } from './timeline';

const say = (s: string) => process.stderr.write(`${s}\n`);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

/** One wide shape: the cap of every arm, the judge's cap, the sim's latency per request. */
export interface WideShape {
  armCap: number;
  judgeCap: number;
  latencyMs: number;
}

/** The issue's shapes, widest first; zero latency at today's caps. */
export const WIDE_SHAPES: WideShape[] = [
  { armCap: 128, judgeCap: 256, latencyMs: 1000 },
  { armCap: 64, judgeCap: 128, latencyMs: 500 },
  { armCap: 16, judgeCap: 32, latencyMs: 200 },
  { armCap: 16, judgeCap: 32, latencyMs: 0 },
];

/** The issue's targets: thought-probe / fetch pool at most this (by latency), calls/s at least this share of the pool's. */
export const WIDE_TARGETS = { probeOverFetch: { 1000: 1.1, 200: 1.05 } as Record<number, number>, zeroLatencyShare: 0.8 };

export function parseShapes(s: string): WideShape[] {
  return s.split(',').map((x) => {
    const t = x.trim();
    if (/^\d+$/.test(t)) return WIDE_SHAPES.find((w) => w.latencyMs === Number(t)) ?? { armCap: 16, judgeCap: 32, latencyMs: Number(t) };
    const m = /^(\d+)x(\d+)@(\d+)$/.exec(t);
    if (!m) throw new Error(`--shapes: "${t}" is not <arm cap>x<judge cap>@<latency ms> or a latency of the default shapes`);
    return { armCap: Number(m[1]), judgeCap: Number(m[2]), latencyMs: Number(m[3]) };
  });
}

const shapeName = (s: WideShape) => `${s.armCap}/${s.judgeCap} at ${s.latencyMs} ms`;

/** The config with every arm's and the judge's cap set to the shape's. */
export function widen(config: RunConfig, s: WideShape): RunConfig {
  return { ...config, arms: config.arms.map((a) => ({ ...a, maxConcurrency: s.armCap })), judge: { ...config.judge, maxConcurrency: s.judgeCap } };
}

/** A `thought-probe worker` in its own process. */
export interface WorkerProcess {
  child: ChildProcess;
  /** From spawn to its "worker polling" line. */
  startMs: number;
  stop(): Promise<void>;
}

/** How a worker process is started: its CLI arguments, node's own (before the script), extra environment. */
export interface WorkerSpawnOptions {
  args?: string[];
  nodeArgs?: string[];
  env?: Record<string, string>;
}

/** Spawns `thought-probe worker` (the built CLI) and waits for it to say it polls. */
export function spawnWorker(opts: WorkerSpawnOptions = {}): Promise<WorkerProcess> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(root, 'bin/thought-probe.js'), 'worker', ...(opts.args ?? [])], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...opts.env } });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the worker did not poll within 60 s')), 60_000);
    const exited = (code: number | null) => reject(new Error(`the worker exited with code ${code} before it polled`));
    child.once('exit', exited);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!/worker polling/.test(out)) return;
      clearTimeout(timer);
      child.off('exit', exited);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({
        child,
        startMs: Date.now() - t0,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** CPU seconds of the processes of one run, over its timed window. */
export interface ProcessCpu {
  wallSeconds: number;
  /** The worker process (thought-probe only). */
  worker: number | null;
  temporal: number | null;
  sim: number | null;
  /** This process: the client and follow (thought-probe), or the whole plain runner. */
  bench: number;
  machineBusy: number;
}

interface Measured {
  seconds: number;
  calls: number;
  cpu: ProcessCpu;
  summary: Summary;
  /** Lane-seconds the simulated server was answering the arms' models and the judge (its requests' open time). */
  busy: { arms: number; judge: number };
  /** thought-probe only: the run's phases and held lane-seconds from its histories (read after the timing). */
  timeline?: RunTimeline;
}

function busyOf(stats: SimStats, config: RunConfig): Measured['busy'] {
  const sec = (m: string) => (stats.models[m]?.busyMs ?? 0) / 1000;
  return { arms: config.arms.reduce((a, x) => a + sec(x.model), 0), judge: sec(config.judge.model) };
}

function processCpu(w: CpuWindow, worker: number | null): ProcessCpu {
  return { wallSeconds: w.wallSeconds, worker, temporal: w.temporalSeconds, sim: w.simSeconds, bench: w.selfSeconds, machineBusy: w.machineBusySeconds };
}

let runCount = 0;

/** One thought-probe run of `config` on the given worker process, against a fresh simulated server. */
export async function measureProbeRun(config: RunConfig, latencyMs: number, worker: WorkerProcess): Promise<Measured> {
  const sim = await spawnSimFor(config, latencyMs);
  try {
    const client = await connectClient();
    const runId = `${config.name}-wide-${process.pid}-${++runCount}-${Date.now().toString(36)}`;
    const temporalPid = temporalServerPid();
    const w0 = procCpuSeconds(worker.child.pid!);
    const before = cpuMark(sim.child.pid, temporalPid);
    const t0 = Date.now();
    const handle = await startRun(client, pointAtSim(config, sim.url), runId);
    const result = await follow(handle, true);
    const ms = Date.now() - t0;
    const after = cpuMark(sim.child.pid, temporalPid);
    const w1 = procCpuSeconds(worker.child.pid!);
    const stats = await sim.stats();
    const timeline = await runTimeline(client, runId, config.arms.map((a) => a.name));
    return { seconds: ms / 1000, calls: stats.totalRequests, cpu: processCpu(cpuBetween(before, after, machineCores()), w0 === undefined || w1 === undefined ? null : w1 - w0), summary: result.summary, busy: busyOf(stats, config), timeline };
  } finally {
    await sim.stop();
  }
}

/** One plain run, in a process of its own (bench/plain-child.ts), against a fresh simulated server. */
export async function measurePlainRun(config: RunConfig, latencyMs: number, transport: PlainTransport): Promise<Measured> {
  const sim = await spawnSimFor(config, latencyMs);
  const dir = mkdtempSync(join(tmpdir(), 'tp-plain-'));
  try {
    const file = join(dir, 'input.json');
    writeFileSync(file, JSON.stringify({ config, simUrl: sim.url, transport }));
    const temporalPid = temporalServerPid();
    const before = cpuMark(sim.child.pid, temporalPid);
    const out = await new Promise<string>((resolve, reject) => {
      // The same node and loader flags as this process (tsx), so the child runs the TypeScript as it is.
      const child = spawn(process.execPath, [...process.execArgv, join(root, 'bench/plain-child.ts'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`the plain ${transport} run exited with code ${code}`))));
    });
    const after = cpuMark(sim.child.pid, temporalPid);
    const r = JSON.parse(out.trim().split('\n').pop()!) as { ms: number; errors: { error: string }[]; summary: Summary; cpuSeconds: number };
    if (r.errors.length) say(`  plain ${transport}: ${r.errors.length} failed samples, first: ${r.errors[0]!.error}`);
    const stats = await sim.stats();
    const cpu = processCpu(cpuBetween(before, after, machineCores()), null);
    // The script's own CPU over its run (its start-up, outside the makespan, left out).
    cpu.bench = r.cpuSeconds;
    return { seconds: r.ms / 1000, calls: stats.totalRequests, cpu, summary: r.summary, busy: busyOf(stats, config) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sim.stop();
  }
}

/** The three runners of every shape; a probe variant is named `thought-probe <key>=<value>`. */
type Runner = string;
const RUNNERS: Runner[] = ['thought-probe', 'fetch pool', 'stream pool'];

/** A thought-probe runner whose run config differs in one dotted key (e.g. generation.stream=always). */
export interface ProbeVariant {
  name: string;
  path: string[];
  value: unknown;
}

export function parseVariants(s: string): ProbeVariant[] {
  return s.split(',').filter((x) => x.trim()).map((x) => {
    const m = /^([A-Za-z][\w.]*)=(.*)$/.exec(x.trim());
    if (!m) throw new Error(`--probe-also: "${x}" is not <dotted.config.key>=<value>`);
    let value: unknown = m[2];
    try {
      value = JSON.parse(m[2]!);
    } catch {
      // a bare word is a string
    }
    return { name: `thought-probe ${m[1]}=${m[2]}`, path: m[1]!.split('.'), value };
  });
}

/** The config with a variant's key set. */
export function withVariant(config: RunConfig, v: ProbeVariant): RunConfig {
  const set = (o: Record<string, unknown>, path: string[]): Record<string, unknown> =>
    path.length === 1 ? { ...o, [path[0]!]: v.value } : { ...o, [path[0]!]: set((o[path[0]!] as Record<string, unknown>) ?? {}, path.slice(1)) };
  return set(config as unknown as Record<string, unknown>, v.path) as unknown as RunConfig;
}

export interface ShapeResult {
  shape: WideShape;
  plannedCalls: number;
  lowerBoundSeconds: number;
  rounds: { order: Runner[]; runs: Record<Runner, Omit<Measured, 'summary'>>; sameScience: boolean }[];
  medians: Record<Runner, { seconds: number; callsPerSecond: number; cpu: Record<keyof Omit<ProcessCpu, 'wallSeconds'>, number | null> }>;
  /** Where thought-probe's time went (medians over its rounds), beside the fetch pool's lane use. */
  where?: WhereTimeWent;
  /** Each probe variant's median over the fetch pool's, beside the default's. */
  variants?: { name: string; seconds: number; overFetch: number; workerCpu: number | null }[];
  ratios: { probeOverFetch: number; probeOverFetchPerRound: number[]; probeOverBound: number; fetchOverBound: number; streamOverFetch: number; callsPerSecondShare: number };
  target: string;
  met: boolean | null;
}

/** Medians of thought-probe's phases and lane use in one shape; lane-seconds are summed over the arms. */
export interface WhereTimeWent {
  startMs: number;
  armEndMs: number;
  artifactsMs: number;
  closeMs: number;
  workflowTasks: number;
  activities: Record<string, number>;
  /** Lane-seconds: what the caps allowed while the arms ran, what batches held, what the server was answering. */
  arms: { cap: number; held: number; busy: number; fetchPoolBusy: number };
  judge: { cap: number; held: number; busy: number; fetchPoolBusy: number };
}

function whereTimeWent(config: RunConfig, probe: Measured[], pool: Measured[]): WhereTimeWent | undefined {
  const t = probe.map((m) => m.timeline).filter((x): x is RunTimeline => x !== undefined);
  if (t.length === 0) return undefined;
  const med = (f: (x: RunTimeline) => number) => median(t.map(f));
  // What the caps allow while the arms run: from the first arm activity to the last arm's completion.
  const armWindow = (x: RunTimeline) => (x.makespanMs - x.startMs - x.artifactsMs - x.closeMs) / 1000;
  const armCaps = config.arms.reduce((a, x) => a + x.maxConcurrency, 0);
  const types = [...new Set(t.flatMap((x) => Object.keys(x.activities)))];
  return {
    startMs: med((x) => x.startMs),
    armEndMs: med((x) => x.armEndMs),
    artifactsMs: med((x) => x.artifactsMs),
    closeMs: med((x) => x.closeMs),
    workflowTasks: med((x) => x.workflowTasks),
    activities: Object.fromEntries(types.map((k) => [k, med((x) => x.activities[k] ?? 0)])),
    arms: { cap: med((x) => armCaps * armWindow(x)), held: med((x) => x.heldLaneSeconds.generate ?? 0), busy: median(probe.map((m) => m.busy.arms)), fetchPoolBusy: median(pool.map((m) => m.busy.arms)) },
    judge: { cap: med((x) => config.judge.maxConcurrency * armWindow(x)), held: med((x) => x.heldLaneSeconds.judge ?? 0), busy: median(probe.map((m) => m.busy.judge)), fetchPoolBusy: median(pool.map((m) => m.busy.judge)) },
  };
}

/** Runs one shape: `runs` rounds of the three runners, the order rotating each round. */
export async function runShape(base: RunConfig, shape: WideShape, runs: number, worker: WorkerProcess, variants: ProbeVariant[] = []): Promise<ShapeResult> {
  const config = widen(base, shape);
  const runners = [...RUNNERS, ...variants.map((v) => v.name)];
  const planned = plannedCalls(config).total;
  const bound = lowerBound(config, shape.latencyMs).seconds;
  say(`shape ${shapeName(shape)}: ${planned} calls, lower bound ${f1(bound)} s`);
  const rounds: ShapeResult['rounds'] = [];
  const kept: { probe: Measured[]; pool: Measured[] } = { probe: [], pool: [] };
  for (let i = 0; i < runs; i++) {
    const order = runners.map((_, k) => runners[(k + i) % runners.length]!);
    const got: Record<Runner, Measured> = {};
    for (const who of order) {
      const variant = variants.find((v) => v.name === who);
      got[who] =
        who === 'thought-probe' || variant
          ? await measureProbeRun(variant ? withVariant(config, variant) : config, shape.latencyMs, worker)
          : await measurePlainRun(config, shape.latencyMs, who === 'fetch pool' ? 'fetch' : 'stream');
      say(`  round ${i + 1}/${runs} ${who}: ${f2(got[who].seconds)} s, ${got[who].calls} calls`);
    }
    const diffs = runners.slice(1).map((r) => sameScience(got['thought-probe']!.summary, got[r]!.summary)).filter((d) => !d.equal);
    const same = diffs.length === 0;
    if (!same) say(`  the summaries differ: ${diffs[0]!.firstDifference}`);
    kept.probe.push(got['thought-probe']!);
    kept.pool.push(got['fetch pool']!);
    const strip = ({ summary: _s, timeline: _t, ...m }: Measured) => m;
    rounds.push({ order, runs: Object.fromEntries(runners.map((r) => [r, strip(got[r]!)])), sameScience: same });
  }
  const med = (r: Runner, pick: (m: Omit<Measured, 'summary'>) => number | null) => {
    const xs = rounds.map((x) => pick(x.runs[r]));
    return xs.some((x) => x === null) ? null : median(xs as number[]);
  };
  const medians = Object.fromEntries(
    runners.map((r) => [
      r,
      {
        seconds: med(r, (m) => m.seconds)!,
        callsPerSecond: med(r, (m) => m.calls / m.seconds)!,
        cpu: { worker: med(r, (m) => m.cpu.worker), temporal: med(r, (m) => m.cpu.temporal), sim: med(r, (m) => m.cpu.sim), bench: med(r, (m) => m.cpu.bench), machineBusy: med(r, (m) => m.cpu.machineBusy) },
      },
    ]),
  ) as ShapeResult['medians'];
  const p = medians['thought-probe'];
  const q = medians['fetch pool'];
  const ratios = {
    probeOverFetch: p.seconds / q.seconds,
    probeOverFetchPerRound: rounds.map((x) => x.runs['thought-probe'].seconds / x.runs['fetch pool'].seconds),
    probeOverBound: p.seconds / bound,
    fetchOverBound: q.seconds / bound,
    streamOverFetch: medians['stream pool'].seconds / q.seconds,
    callsPerSecondShare: p.callsPerSecond / q.callsPerSecond,
  };
  const t = WIDE_TARGETS.probeOverFetch[shape.latencyMs];
  const target = shape.latencyMs === 0 ? `calls/s ≥ ${WIDE_TARGETS.zeroLatencyShare} × the fetch pool's` : t !== undefined ? `≤ ${f2(t)} × the fetch pool` : 'none set';
  const met = shape.latencyMs === 0 ? ratios.callsPerSecondShare >= WIDE_TARGETS.zeroLatencyShare : t !== undefined ? ratios.probeOverFetch <= t : null;
  const vs = variants.map((v) => ({ name: v.name, seconds: medians[v.name]!.seconds, overFetch: medians[v.name]!.seconds / q.seconds, workerCpu: medians[v.name]!.cpu.worker, callsPerSecond: medians[v.name]!.callsPerSecond }));
  const where = whereTimeWent(config, kept.probe, kept.pool);
  return { shape, plannedCalls: planned, lowerBoundSeconds: bound, rounds, medians, ratios, target, met, ...(where ? { where } : {}), ...(vs.length ? { variants: vs } : {}) };
}

/** The markdown table of the shapes. */
export function shapeTable(results: ShapeResult[]): string {
  const cpu = (x: number | null) => (x === null ? '–' : f1(x));
  const lines = [
    '| shape (caps arm/judge, latency) | lower bound (s) | thought-probe (s) | fetch pool (s) | stream pool (s) | probe / fetch (per round) | probe / bound | fetch / bound | calls/s probe · fetch | CPU s probe: worker · Temporal · sim · client | CPU s fetch pool: runner · sim | target | met |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    const p = r.medians['thought-probe'];
    const q = r.medians['fetch pool'];
    lines.push(
      `| ${shapeName(r.shape)} | ${f1(r.lowerBoundSeconds)} | ${f2(p.seconds)} | ${f2(q.seconds)} | ${f2(r.medians['stream pool'].seconds)} | ${f2(r.ratios.probeOverFetch)} (${r.ratios.probeOverFetchPerRound.map(f2).join(', ')}) | ${f2(r.ratios.probeOverBound)} | ${f2(r.ratios.fetchOverBound)} | ${Math.round(p.callsPerSecond)} · ${Math.round(q.callsPerSecond)} | ${cpu(p.cpu.worker)} · ${cpu(p.cpu.temporal)} · ${cpu(p.cpu.sim)} · ${cpu(p.cpu.bench)} | ${cpu(q.cpu.bench)} · ${cpu(q.cpu.sim)} | ${r.target} | ${r.met === null ? '–' : r.met ? 'yes' : 'no'} |`,
    );
  }
  for (const r of results) {
    for (const v of r.variants ?? []) {
      const p = r.medians['thought-probe']!;
      lines.push(`| ${shapeName(r.shape)}, ${v.name} | | ${f2(v.seconds)} | | | ${f2(v.overFetch)} (default ${f2(r.ratios.probeOverFetch)}) | | | ${Math.round(r.medians[v.name]!.callsPerSecond)} (default ${Math.round(p.callsPerSecond)}) | worker ${cpu(v.workerCpu)} (default ${cpu(p.cpu.worker)}) | | | |`);
    }
  }
  lines.push('', `medians of ${results[0]?.rounds.length ?? 0} rounds; each round runs the runners in rotating order; CPU is each process's over the run's timed window`);
  const w = results.filter((r) => r.where);
  if (w.length) {
    lines.push(
      '',
      "Where thought-probe's time went (medians; lane-seconds summed over the arms: what the caps allowed while the arms ran · what batches held · what the server was answering · the fetch pool's answering):",
      '',
      '| shape | run start to first activity (ms) | last activity to last arm done (ms) | writeArtifacts (ms) | rest of the close (ms) | workflow tasks | activities | arm lane-s cap · held · busy · pool | judge lane-s cap · held · busy · pool |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    );
    for (const r of w) {
      const x = r.where!;
      const lane = (l: WhereTimeWent['arms']) => `${Math.round(l.cap)} · ${Math.round(l.held)} · ${Math.round(l.busy)} · ${Math.round(l.fetchPoolBusy)}`;
      lines.push(`| ${shapeName(r.shape)} | ${Math.round(x.startMs)} | ${Math.round(x.armEndMs)} | ${Math.round(x.artifactsMs)} | ${Math.round(x.closeMs)} | ${Math.round(x.workflowTasks)} | ${Object.entries(x.activities).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')} | ${lane(x.arms)} | ${lane(x.judge)} |`);
    }
  }
  if (results.some((r) => r.rounds.some((x) => !x.sameScience))) lines.push('WARNING: the summaries differed between runners in some round');
  else lines.push('summaries equal between the runners in every round');
  return `${lines.join('\n')}\n`;
}

export interface StartUpResult {
  rounds: { startMs: number; firstRunSeconds: number; secondRunSeconds: number; workerCpuFirst: number | null; workerCpuSecond: number | null }[];
  medians: { startMs: number; firstRunSeconds: number; secondRunSeconds: number };
  shape: WideShape;
  /** Fresh workers started with `--start-up-env` added, alternating with the default ones in the same rounds. */
  compared?: { env: Record<string, string>; rounds: StartUpResult['rounds']; medians: StartUpResult['medians'] };
}

async function freshWorkerRound(config: RunConfig, shape: WideShape, worker: WorkerSpawnOptions, label: string): Promise<StartUpResult['rounds'][number]> {
  const w = await spawnWorker(worker);
  try {
    const first = await measureProbeRun(config, shape.latencyMs, w);
    const second = await measureProbeRun(config, shape.latencyMs, w);
    say(`  fresh worker${label}: polling after ${w.startMs} ms; first run ${f2(first.seconds)} s, second ${f2(second.seconds)} s`);
    return { startMs: w.startMs, firstRunSeconds: first.seconds, secondRunSeconds: second.seconds, workerCpuFirst: first.cpu.worker, workerCpuSecond: second.cpu.worker };
  } finally {
    await w.stop();
  }
}

const startUpMedians = (rounds: StartUpResult['rounds']): StartUpResult['medians'] => ({
  startMs: median(rounds.map((r) => r.startMs)),
  firstRunSeconds: median(rounds.map((r) => r.firstRunSeconds)),
  secondRunSeconds: median(rounds.map((r) => r.secondRunSeconds)),
});

/** Fresh workers: spawn to "worker polling", then the first run on each and a second one (with `compareEnv`, each round also one worker with that environment, in alternating order). */
export async function runStartUp(base: RunConfig, shape: WideShape, runs: number, worker: WorkerSpawnOptions, compareEnv?: Record<string, string>): Promise<StartUpResult> {
  const config = widen(base, shape);
  const rounds: StartUpResult['rounds'] = [];
  const other: StartUpResult['rounds'] = [];
  const otherLabel = compareEnv ? ` (${Object.entries(compareEnv).map(([k, v]) => `${k}=${v}`).join(' ')})` : '';
  for (let i = 0; i < runs; i++) {
    const plain = async () => rounds.push(await freshWorkerRound(config, shape, worker, ` ${i + 1}/${runs}`));
    const changed = async () => other.push(await freshWorkerRound(config, shape, { ...worker, env: { ...worker.env, ...compareEnv } }, ` ${i + 1}/${runs}${otherLabel}`));
    const order = !compareEnv ? [plain] : i % 2 === 0 ? [plain, changed] : [changed, plain];
    for (const run of order) await run();
  }
  return { shape, rounds, medians: startUpMedians(rounds), ...(compareEnv ? { compared: { env: compareEnv, rounds: other, medians: startUpMedians(other) } } : {}) };
}

export function startUpTable(s: StartUpResult): string {
  const rows = (label: string, rs: StartUpResult['rounds'], m: StartUpResult['medians']) => [
    `| spawn to "worker polling" (ms)${label} | ${rs.map((r) => r.startMs).join(', ')} | ${m.startMs} |`,
    `| its first run (s)${label} | ${rs.map((r) => f2(r.firstRunSeconds)).join(', ')} | ${f2(m.firstRunSeconds)} |`,
    `| its second run (s)${label} | ${rs.map((r) => f2(r.secondRunSeconds)).join(', ')} | ${f2(m.secondRunSeconds)} |`,
  ];
  const c = s.compared;
  return [
    `| fresh \`thought-probe worker\` (${shapeName(s.shape)}) | per worker | median |`,
    '| --- | --- | ---: |',
    ...rows('', s.rounds, s.medians),
    ...(c ? rows(`, ${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')}`, c.rounds, c.medians) : []),
    '',
  ].join('\n');
}

/** The wide part of `npm run bench`: the shapes on one long-lived worker process, then fresh workers' start-up. */
export async function runWide(opts: { config: RunConfig; shapes: WideShape[]; runs: number; startUps: number; worker: WorkerSpawnOptions; variants?: ProbeVariant[]; startUpEnv?: Record<string, string>; onPart?: (part: object) => void }) {
  const out: { date: string; machine: string; shapes: ShapeResult[]; startUp?: StartUpResult; workerStartMs?: number } = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores (shared)`,
    shapes: [],
  };
  if (opts.shapes.length) {
    const worker = await spawnWorker(opts.worker);
    out.workerStartMs = worker.startMs;
    say(`worker process ${worker.child.pid} polling after ${worker.startMs} ms`);
    try {
      // One untimed run, so the first timed one does not pay for the worker's warm-up (measured below on its own).
      say('warm-up run (untimed)');
      await measureProbeRun(widen(opts.config, WIDE_SHAPES[2]!), 0, worker);
      for (const s of opts.shapes) {
        out.shapes.push(await runShape(opts.config, s, opts.runs, worker, opts.variants));
        opts.onPart?.(out);
      }
    } finally {
      await worker.stop();
    }
    process.stdout.write(shapeTable(out.shapes));
  }
  if (opts.startUps > 0) {
    say(`start-up: ${opts.startUps} fresh workers`);
    out.startUp = await runStartUp(opts.config, WIDE_SHAPES[2]!, opts.startUps, opts.worker, opts.startUpEnv);
    opts.onPart?.(out);
    process.stdout.write(startUpTable(out.startUp));
  }
  out.machine += `; load average ${loadavg().map(f2).join(' ')} at the end`;
  return out;
}

/** One line per shape for the bench summary. */
export function wideSummaryLines(w: Awaited<ReturnType<typeof runWide>>): string[] {
  const lines = w.shapes.map((r) =>
    r.shape.latencyMs === 0
      ? `(f) zero latency ${r.shape.armCap}/${r.shape.judgeCap}: thought-probe ${Math.round(r.medians['thought-probe'].callsPerSecond)} calls/s, fetch pool ${Math.round(r.medians['fetch pool'].callsPerSecond)} = ${f2(r.ratios.callsPerSecondShare)} (target ≥ ${WIDE_TARGETS.zeroLatencyShare}) ${r.met ? 'met' : 'not met'}`
      : `(f) ${shapeName(r.shape)}: thought-probe / fetch pool ${f2(r.ratios.probeOverFetch)} (per round ${r.ratios.probeOverFetchPerRound.map(f2).join(', ')}; target ${r.target}${r.met === null ? '' : r.met ? ', met' : ', not met'}); / bound ${f2(r.ratios.probeOverBound)}, fetch pool / bound ${f2(r.ratios.fetchOverBound)}`,
  );
  for (const r of w.shapes) for (const v of r.variants ?? []) lines.push(`(f) ${shapeName(r.shape)}, ${v.name}: / fetch pool ${f2(v.overFetch)} beside the default's ${f2(r.ratios.probeOverFetch)}`);
  const c = w.startUp?.compared;
  if (c) lines.push(`(g) fresh worker with ${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')}: polling after ${c.medians.startMs} ms; first run ${f2(c.medians.firstRunSeconds)} s, second ${f2(c.medians.secondRunSeconds)} s`);
  if (w.startUp) lines.push(`(g) fresh worker: polling after ${w.startUp.medians.startMs} ms; first run ${f2(w.startUp.medians.firstRunSeconds)} s, second ${f2(w.startUp.medians.secondRunSeconds)} s (${shapeName(w.startUp.shape)})`);
  return lines;
}

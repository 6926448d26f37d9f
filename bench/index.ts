// `npm run bench`: the four measurements of the performance issue, in order, each printed as a markdown table
// (medians of --runs runs), all written into one JSON file, bench/results/bench.json (keys saturation200,
// saturation1000, zeroLatency, scale, store), with a one-line summary per measurement against its target at the end.
// Not part of the test suite.
//
//   (a)  saturation at 200 ms per request: thought-probe's demo run beside a plain in-process runner of the same
//        calls (bench/plain.ts), in alternating pairs, against the servers' lower bound: makespans, median / bound;
//   (a') the same at 1000 ms per request;
//   (b)  thought-probe / plain, per pair and of the medians: the last row of each (a) table;
//   (c)  zero latency: model calls per second and the CPU each process spends, thought-probe and plain;
//   (d)  scale (bench/scale.ts runScale): 320 prefixes at 0 ms, per run the makespan, largest history, most
//        pending activities, worker peak RSS, child workflows, continue-as-new; and Temporal's thresholds;
//   (e)  the run store (bench/store.ts, only with --store): the note shape with the file store and with the
//        postgres store (a private PostgreSQL cluster, test/helpers/postgres.ts) in alternating pairs, at each
//        --store-latency-ms (default 200,1000,0; 0 gives calls/s), the worker's peak RSS and PostgreSQL's CPU per
//        run, and a profile of the store's connection pool (statements by kind, their time, waits for a connection).
//
//   (f)  the wide shapes (bench/wide.ts): thought-probe on its own `thought-probe worker` process beside a plain
//        non-streaming fetch pool and the streaming plain runner, caps 128/256 at 1000 ms, 64/128 at 500 ms, 16/32
//        at 200 ms and zero latency, with each process's CPU; (g) fresh workers' start-up and first runs.
//
//   npm run bench                                  all: (a) 200 ms, (a') 1000 ms, (c), (d), (f), (g)
//   npm run bench -- --wide [--shapes 128x256@1000,0] [--no-start-up] [--start-ups 3]   only (f) and (g)
//                    [--probe-also generation.stream=always]  a thought-probe runner with that config key changed
//   npm run bench -- --skip-scale                  all but (d)
//   npm run bench -- --latency-ms 200              only the saturation at that latency (key saturation<L>)
//   npm run bench -- --zero-latency                only (c)
//   npm run bench -- --scale [--scale-runs 3] [--prefixes 320]   only (d)
//   npm run bench -- --store file,postgres [--store-latency-ms 200,1000,0] [--no-warm-up]   only (e) (target:
//                    postgres ≤ 1.05 × file at 200 and 1000 ms; an untimed zero-latency run per store goes first;
//                    --store-pool-max N, a what-if for the profile, sets the store pool's max in this process;
//                    --store-cpu-profile samples this process's main thread in every timed run, and prints where it went)
//   options: --runs 3 (pairs of (a)/(a'), runs of (c)), --scale-runs 3, --prefixes 320 (of (d)),
//            --config examples/demo.yaml (of (a) and (c)),
//            --fresh-worker (each thought-probe run of (a) and (c) starts its own worker, as `npm run demo` does;
//                            by default one long-lived worker serves them all, as a deployed worker would),
//            --in-flight (also samples each server's requests in flight at the sim in (a); thought-probe then runs
//                         through bench/lib.ts runDemoMeasured, runDemo's steps with the sim's URL at hand)
//   --latency-ms, --zero-latency, --scale and --store each select a part; together they select the union of their parts.
//   bench/results/bench.json holds the parts of the last invocation only; it is rewritten after each part.
//
// The machine may be shared: run one benchmark at a time, and read single runs as noisy. The whole default run
// takes a while (the 1000 ms pairs and the scale runs take minutes each).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { runDemo } from '../src/cli/demo';
import { resolveConfigFile } from '../src/config/load';
import type { RunConfig } from '../src/config/schema';
import type { Summary } from '../src/experiment/summary';
import { ensureDevServer } from '../src/workers/devServer';
import {
  cpuBetween,
  cpuMark,
  flag,
  lowerBound,
  machineCores,
  median,
  numArg,
  plannedCalls,
  reapedChildrenCpuSeconds,
  root,
  runDemoMeasured,
  sameScience,
  sampleInFlight,
  type InFlight,
  selfCpuSeconds,
  spawnSimFor,
  strArg,
  type CpuWindow,
} from './lib';
import type { Worker } from '@temporalio/worker';
import { createWorkers } from '../src/workers/worker';
import { runPlain, type PlainResult } from './plain';
import { runScale, SCALE_LIMITS, type ScaleResult } from './scale';
import { parseStores, runStoreBench, storeSummaryLines, type StoreBenchResult } from './store';
import { parseShapes, parseVariants, runWide, WIDE_SHAPES, wideSummaryLines } from './wide';

const say = (s: string) => process.stderr.write(`${s}\n`);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

interface SimCounts {
  totalRequests: number;
}

async function simStats(url: string): Promise<SimCounts | null> {
  try {
    const res = await fetch(`${url.replace(/\/v1\/?$/, '')}/stats`);
    return (await res.json()) as SimCounts;
  } catch {
    return null;
  }
}

interface ProbeMeasurement {
  seconds: number;
  runId: string;
  /** Planned model calls (the simulated judge answers validly, so no invalid-judge retries). */
  calls: number;
  /** This process over the whole runDemo call (worker creation and workflow bundling included; with --in-flight, the timed window only). */
  selfCpuSeconds: number;
  /** The simulated endpoints over their whole life (start-up included), from this process's reaped-children time (with --in-flight, the timed window only). */
  simCpuSeconds: number;
  summary: Summary;
  /** With --in-flight: mean requests in flight per model at the sim (thought-probe then runs through runDemoMeasured). */
  inFlight?: InFlight;
}

async function measureProbe(configFile: string, config: RunConfig, latencyMs: number, inFlight: boolean): Promise<ProbeMeasurement> {
  if (inFlight) {
    const r = await runDemoMeasured({ config: configFile, latencyMs, sampleInFlight: true, workers: benchWorkers });
    return { seconds: r.ms / 1000, runId: r.runId, calls: plannedCalls(config).total, selfCpuSeconds: r.cpu.selfSeconds, simCpuSeconds: r.cpu.simSeconds ?? NaN, summary: r.result.summary, ...(r.inFlight ? { inFlight: r.inFlight } : {}) };
  }
  const self0 = selfCpuSeconds();
  const kids0 = reapedChildrenCpuSeconds();
  const { ms, runId, result } = await runDemo({ config: configFile, latencyMs, quiet: true, print: false, workers: benchWorkers });
  return {
    seconds: ms / 1000,
    runId,
    calls: plannedCalls(config).total,
    selfCpuSeconds: selfCpuSeconds() - self0,
    simCpuSeconds: reapedChildrenCpuSeconds() - kids0,
    summary: result.summary,
  };
}

interface PlainMeasurement {
  seconds: number;
  runId: string;
  calls: number;
  simCounted: number | null;
  errors: number;
  pools: PlainResult['pools'];
  cpu: CpuWindow;
  summary: Summary;
  inFlight?: InFlight;
}

async function measurePlain(config: RunConfig, latencyMs: number, inFlight = false): Promise<PlainMeasurement> {
  const sim = await spawnSimFor(config, latencyMs);
  try {
    const sampler = inFlight ? sampleInFlight(sim.url) : undefined;
    const before = cpuMark(sim.child.pid);
    const r = await runPlain({ config, simUrl: sim.url });
    const after = cpuMark(sim.child.pid);
    const sampled = await sampler?.stop();
    const counted = await simStats(sim.url);
    if (r.errors.length) say(`  plain: ${r.errors.length} failed samples, first: ${r.errors[0]!.error}`);
    return {
      seconds: r.ms / 1000,
      runId: r.runId,
      calls: r.requests.total,
      simCounted: counted?.totalRequests ?? null,
      errors: r.errors.length,
      pools: r.pools,
      cpu: cpuBetween(before, after, machineCores()),
      summary: r.summary,
      ...(sampled ? { inFlight: sampled } : {}),
    };
  } finally {
    await sim.stop();
  }
}

const BENCH_JSON = join(root, 'bench/results/bench.json');

/** Writes every part measured so far into bench.json, so a part that fails later does not lose the earlier ones. */
function writeJson(out: unknown): void {
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(BENCH_JSON, `${JSON.stringify(out, null, 2)}\n`);
}

async function sideBySide(configFile: string, config: RunConfig, latencyMs: number, runs: number, inFlight: boolean) {
  const bound = lowerBound(config, latencyMs);
  const planned = plannedCalls(config);
  say(`lower bound ${f1(bound.seconds)} s: ${bound.servers.map((s) => `${s.server} ${s.calls} calls / ${s.cap} → ${f1(s.seconds)} s`).join('; ')}`);
  const pairs: { order: string[]; probe: Omit<ProbeMeasurement, 'summary'>; plain: Omit<PlainMeasurement, 'summary'>; sameScience: ReturnType<typeof sameScience> }[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate who goes first, so a drift in the machine's load does not favour one side.
    const order = i % 2 === 0 ? ['thought-probe', 'plain'] : ['plain', 'thought-probe'];
    let probe: ProbeMeasurement | undefined;
    let plain: PlainMeasurement | undefined;
    for (const who of order) {
      if (who === 'thought-probe') {
        probe = await measureProbe(configFile, config, latencyMs, inFlight);
        say(`pair ${i + 1}/${runs} thought-probe (${probe.runId}): ${f1(probe.seconds)} s`);
      } else {
        plain = await measurePlain(config, latencyMs, inFlight);
        say(`pair ${i + 1}/${runs} plain (${plain.runId}): ${f1(plain.seconds)} s, ${plain.calls} calls (sim counted ${plain.simCounted ?? '?'})`);
      }
    }
    const same = sameScience(probe!.summary, plain!.summary);
    if (!same.equal) say(`  the summaries differ: ${same.firstDifference}`);
    const { summary: _a, ...p } = probe!;
    const { summary: _b, ...q } = plain!;
    pairs.push({ order, probe: p, plain: q, sameScience: same });
  }
  const probeMedian = median(pairs.map((p) => p.probe.seconds));
  const plainMedian = median(pairs.map((p) => p.plain.seconds));
  const pairRatios = pairs.map((p) => p.probe.seconds / p.plain.seconds);
  const out = {
    kind: 'side-by-side',
    date: new Date().toISOString(),
    machine: `${cpus().length} cores (shared; load average ${loadavg().map(f2).join(' ')} at the end)`,
    config: configFile,
    latencyMs,
    plannedCalls: planned,
    lowerBound: bound,
    pairs,
    medians: { probeSeconds: probeMedian, plainSeconds: plainMedian },
    ratios: { probeOverBound: probeMedian / bound.seconds, plainOverBound: plainMedian / bound.seconds, probeOverPlain: probeMedian / plainMedian, probeOverPlainPerPair: pairRatios },
    sameScience: pairs.every((p) => p.sameScience.equal),
  };
  const times = (xs: number[]) => xs.map(f1).join(', ');
  process.stdout.write(
    [
      `| runner (${planned.total} calls: ${planned.perArm * config.arms.length} generation + ${planned.judge} judge) | latency | runs (s) | median (s) | lower bound (s) | median / bound |`,
      '| --- | ---: | --- | ---: | ---: | ---: |',
      `| thought-probe (Temporal) | ${latencyMs} ms | ${times(pairs.map((p) => p.probe.seconds))} | ${f1(probeMedian)} | ${f1(bound.seconds)} | ${f2(probeMedian / bound.seconds)} |`,
      `| plain (promise pools) | ${latencyMs} ms | ${times(pairs.map((p) => p.plain.seconds))} | ${f1(plainMedian)} | ${f1(bound.seconds)} | ${f2(plainMedian / bound.seconds)} |`,
      `| thought-probe / plain | | ${pairRatios.map(f2).join(', ')} | ${f2(probeMedian / plainMedian)} | | |`,
      '',
      ...inFlightLines(config, pairs),
      `summaries ${out.sameScience ? 'equal' : 'DIFFER'} between the runners in every pair`,
      '',
    ].join('\n'),
  );
  return out;
}

/** Mean requests in flight at the sim per server over each run (with --in-flight), against its cap. */
function inFlightLines(config: RunConfig, pairs: { probe: { inFlight?: InFlight }; plain: { inFlight?: InFlight } }[]): string[] {
  if (!pairs.some((p) => p.probe.inFlight || p.plain.inFlight)) return [];
  const servers = [...config.arms.map((a) => ({ model: a.model, cap: a.maxConcurrency })), { model: config.judge.model, cap: config.judge.maxConcurrency }];
  const cell = (x?: InFlight) => servers.map((s) => (x?.[s.model] ? f1(x[s.model]!.mean) : '?')).join(' · ');
  return [
    `mean requests in flight at the sim over the run (${servers.map((s) => `${s.model} of ${s.cap}`).join(' · ')}):`,
    ...pairs.map((p, i) => `- pair ${i + 1}: thought-probe ${cell(p.probe.inFlight)}; plain ${cell(p.plain.inFlight)}`),
    '',
  ];
}

/** Which process a window's CPU points at, as far as the readings can tell. */
function limitOf(cpu: CpuWindow, what: string): string {
  const w = cpu.wallSeconds;
  const parts: string[] = [];
  const machine = cpu.machineBusySeconds / w;
  if (machine >= 0.9 * cpu.machineCores) parts.push(`the machine's ${cpu.machineCores} cores were ${Math.round((100 * machine) / cpu.machineCores)}% busy (every process, others' too): CPU-bound overall`);
  if (cpu.eventLoopUtilization >= 0.9) parts.push(`this process's JavaScript thread was busy ${Math.round(100 * cpu.eventLoopUtilization)}% of the time: ${what} is the limit`);
  if (cpu.simSeconds !== null && cpu.simSeconds / w >= 0.9) parts.push(`the simulated endpoints used ${f2(cpu.simSeconds / w)} core (one JavaScript thread): the sim is the limit`);
  if (cpu.temporalSeconds !== null && cpu.temporalSeconds / w >= 0.9) parts.push(`the Temporal dev server used ${f2(cpu.temporalSeconds / w)} cores`);
  return parts.length ? parts.join('; ') : 'no single process was saturated (waits on round trips dominate)';
}

async function zeroLatency(configFile: string, config: RunConfig, runs: number) {
  const planned = plannedCalls(config);
  const rows: { order: string[]; probe: { seconds: number; callsPerSecond: number; cpu: CpuWindow; limit: string }; plain: { seconds: number; callsPerSecond: number; cpu: CpuWindow; limit: string } }[] = [];
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['thought-probe', 'plain'] : ['plain', 'thought-probe'];
    let probe: (typeof rows)[number]['probe'] | undefined;
    let plain: (typeof rows)[number]['plain'] | undefined;
    for (const who of order) {
      if (who === 'thought-probe') {
        const r = await runDemoMeasured({ config: configFile, latencyMs: 0, workers: benchWorkers });
        probe = { seconds: r.ms / 1000, callsPerSecond: planned.total / (r.ms / 1000), cpu: r.cpu, limit: limitOf(r.cpu, 'the worker (activities, the openai client, the SDK bridge; workflows run on their own thread)') };
        say(`run ${i + 1}/${runs} thought-probe (${r.runId}): ${f1(probe.seconds)} s, ${Math.round(probe.callsPerSecond)} calls/s`);
      } else {
        const r = await measurePlain(config, 0);
        plain = { seconds: r.seconds, callsPerSecond: r.calls / r.seconds, cpu: r.cpu, limit: limitOf(r.cpu, 'the runner (the openai client)') };
        say(`run ${i + 1}/${runs} plain (${r.runId}): ${f1(plain.seconds)} s, ${Math.round(plain.callsPerSecond)} calls/s`);
      }
    }
    rows.push({ order, probe: probe!, plain: plain! });
  }
  const med = (pick: (r: (typeof rows)[number]) => number) => median(rows.map(pick));
  type Side = (typeof rows)[number]['probe'];
  // CPU seconds (median) and cores (CPU seconds ÷ wall seconds, median) of one reading.
  const cell = (side: (r: (typeof rows)[number]) => Side, x: (c: CpuWindow) => number | null) =>
    rows.some((r) => x(side(r).cpu) === null)
      ? 'n/a'
      : `${f2(med((r) => x(side(r).cpu)!))} (${f2(med((r) => x(side(r).cpu)! / side(r).cpu.wallSeconds))})`;
  const line = (name: string, side: (r: (typeof rows)[number]) => Side) =>
    `| ${name} | ${rows.map((r) => f2(side(r).seconds)).join(', ')} | ${Math.round(med((r) => side(r).callsPerSecond))} | ${cell(side, (c) => c.selfSeconds)} | ${Math.round(100 * med((r) => side(r).cpu.eventLoopUtilization))}% | ${cell(side, (c) => c.simSeconds)} | ${cell(side, (c) => c.temporalSeconds)} | ${cell(side, (c) => c.machineBusySeconds)} |`;
  const out = {
    kind: 'zero-latency',
    date: new Date().toISOString(),
    machine: `${cpus().length} cores (shared; load average ${loadavg().map(f2).join(' ')} at the end)`,
    config: configFile,
    plannedCalls: planned,
    runs: rows,
    medians: {
      probe: { seconds: med((r) => r.probe.seconds), callsPerSecond: med((r) => r.probe.callsPerSecond) },
      plain: { seconds: med((r) => r.plain.seconds), callsPerSecond: med((r) => r.plain.callsPerSecond) },
    },
  };
  process.stdout.write(
    [
      `| runner, latency 0 (${planned.total} calls) | runs (s) | calls/s | this process: CPU s (cores) | its event loop busy | sim: CPU s (cores) | Temporal server: CPU s (cores) | whole machine (${cpus().length} cores): busy s (cores) |`,
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      line('thought-probe (Temporal)', (r) => r.probe),
      line('plain (promise pools)', (r) => r.plain),
      '',
      ...rows.map((r, i) => `run ${i + 1}: thought-probe limited by: ${r.probe.limit}. plain: ${r.plain.limit}.`),
      '',
      `CPU is counted over each run's timed window only (worker start-up and workflow bundling excluded)`,
      '',
    ].join('\n'),
  );
  return out;
}

type SideBySide = Awaited<ReturnType<typeof sideBySide>>;
type ZeroLatency = Awaited<ReturnType<typeof zeroLatency>>;

/** Targets of the performance issue, printed beside the measured figures (facts to read, not assertions). */
const TARGETS = { probeOverBound: { 200: 1.1, 1000: 1.05 } as Record<number, number>, probeOverPlain: 1.0, callsPerSecond: 500 };

/** One line per measurement: the figure, and the target next to it. */
function summaryLines(parts: { saturation: SideBySide[]; zero?: ZeroLatency; scale?: ScaleResult; store?: StoreBenchResult; wide?: Awaited<ReturnType<typeof runWide>> }): string[] {
  const lines: string[] = [];
  for (const s of parts.saturation) {
    const target = TARGETS.probeOverBound[s.latencyMs];
    lines.push(`(a) saturation at ${s.latencyMs} ms: thought-probe median ${f1(s.medians.probeSeconds)} s / lower bound ${f1(s.lowerBound.seconds)} s = ${f2(s.ratios.probeOverBound)} (target ≤ ${target === undefined ? 'none set at this latency' : f2(target)}); plain ${f2(s.ratios.plainOverBound)}`);
  }
  for (const s of parts.saturation) {
    lines.push(`(b) thought-probe / plain at ${s.latencyMs} ms: ${f2(s.ratios.probeOverPlain)} of the medians, per pair ${s.ratios.probeOverPlainPerPair.map(f2).join(', ')} (target ≤ ${f2(TARGETS.probeOverPlain)})`);
  }
  if (parts.zero) {
    const m = parts.zero.medians;
    lines.push(`(c) zero latency: thought-probe ${Math.round(m.probe.callsPerSecond)} calls/s (target ≥ ${TARGETS.callsPerSecond}); plain ${Math.round(m.plain.callsPerSecond)} calls/s`);
  }
  if (parts.scale) {
    const o = parts.scale.overall;
    const w = parts.scale.withinLimits;
    const n = (x: number) => x.toLocaleString('en');
    lines.push(
      `(d) scale, ${parts.scale.prefixes} prefixes: thresholds met ${w.all ? 'yes' : 'no'} (largest history ${n(o.largestHistory.events)} of ${n(SCALE_LIMITS.historyEvents)} events, ${(o.largestHistory.bytes / 1024 / 1024).toFixed(1)} of ${SCALE_LIMITS.historyBytes / 1024 / 1024} MB; ` +
        `most pending activities ${n(o.mostPendingActivities)} of ${n(SCALE_LIMITS.pendingActivities)}); median makespan ${f1(o.makespanSecondsMedian)} s; continue-as-new ${o.continuedAsNew}`,
    );
  }
  if (parts.store) lines.push(...storeSummaryLines(parts.store));
  if (parts.wide) lines.push(...wideSummaryLines(parts.wide));
  return lines;
}

/**
 * The worker thought-probe's runs use in (a) and (c): one long-lived worker in this process, started before any
 * timing, as a deployed worker would be (so no run pays for workflow bundling or a cold sandbox). With
 * --fresh-worker each run creates and stops its own, as `npm run demo` does.
 */
let benchWorkers: Worker[] | undefined;
let benchRunning: Promise<void>[] = [];

async function main(): Promise<void> {
  const runs = numArg('runs', 3);
  // --latency-ms, --zero-latency and --scale each pick a part; with none of them, every part runs.
  const picked = flag('latency-ms') || flag('zero-latency') || flag('scale') || flag('store') || flag('wide');
  const wide = flag('wide') || !picked;
  const latencies = flag('latency-ms') ? [numArg('latency-ms', 200)] : picked ? [] : [200, 1000];
  const zero = flag('zero-latency') || !picked;
  const scale = (flag('scale') || !picked) && !flag('skip-scale');
  // (e) runs only when asked for: it starts a PostgreSQL cluster, and its 1000 ms pairs take about 7 minutes.
  const storeArg = strArg('store', 'file,postgres');
  const stores = flag('store') ? parseStores(storeArg.startsWith('--') ? 'file,postgres' : storeArg) : undefined;
  const storeLatencies = strArg('store-latency-ms', '200,1000,0').split(',').map((x) => {
    const v = Number(x);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--store-latency-ms: "${x}" is not a latency in ms`);
    return v;
  });
  const configFile = resolve(strArg('config', join(root, 'examples/demo.yaml')));
  const config = resolveConfigFile(configFile);
  // Started (or found) once, before any timing, so no run pays for it.
  const server = await ensureDevServer(say);
  if (server.started) say(`Temporal dev server started (pid ${server.pid}); it keeps running. Stop it with: kill ${server.pid}`);
  if (!flag('fresh-worker') && (latencies.length > 0 || zero || stores)) {
    benchWorkers = await createWorkers({ taskQueues: config.arms.map((a) => a.taskQueue) });
    benchRunning = benchWorkers.map((w) => w.run());
  }
  const json: Record<string, unknown> = { date: new Date().toISOString(), argv: process.argv.slice(2), worker: benchWorkers ? 'long-lived, shared by the runs' : 'fresh per run' };
  const parts: Parameters<typeof summaryLines>[0] = { saturation: [] };
  for (const latencyMs of latencies) {
    say(`saturation at ${latencyMs} ms per request, ${runs} pairs`);
    const s = await sideBySide(configFile, config, latencyMs, runs, flag('in-flight'));
    parts.saturation.push(s);
    writeJson(Object.assign(json, { [`saturation${latencyMs}`]: s }));
  }
  if (zero) {
    say(`zero latency, ${runs} runs`);
    parts.zero = await zeroLatency(configFile, config, runs);
    writeJson(Object.assign(json, { zeroLatency: parts.zero }));
  }
  if (scale) {
    const scaleRuns = numArg('scale-runs', 3);
    say(`scale, ${scaleRuns} runs`);
    parts.scale = await runScale({ prefixes: numArg('prefixes', 320), latencyMs: 0, runs: scaleRuns });
    writeJson(Object.assign(json, { scale: parts.scale }));
  }
  if (stores) {
    say(`store: ${stores.join(', ')}, ${runs} rounds at ${storeLatencies.join(', ')} ms`);
    parts.store = await runStoreBench({ configFile, stores, latencies: storeLatencies, runs, workers: benchWorkers, warmUp: !flag('no-warm-up'), ...(flag('store-pool-max') ? { poolMax: numArg('store-pool-max', 10) } : {}), cpuProfile: flag('store-cpu-profile'), onLatency: (r) => writeJson(Object.assign(json, { store: r })) });
    writeJson(Object.assign(json, { store: parts.store }));
  }
  if (wide) {
    // The wide part runs thought-probe on its own worker process: the in-process one must not take its tasks.
    benchWorkers?.forEach((w) => w.shutdown());
    await Promise.all(benchRunning);
    benchWorkers = undefined;
    const shapes = flag('shapes') ? parseShapes(strArg('shapes', '')) : WIDE_SHAPES;
    const workerArgs = strArg('worker-args', '').split(' ').filter(Boolean);
    const nodeArgs = strArg('worker-node-args', '').split(' ').filter(Boolean);
    say(`wide shapes: ${shapes.length}, ${runs} rounds each`);
    parts.wide = await runWide({
      config, shapes, runs, startUps: flag('no-start-up') ? 0 : numArg('start-ups', 3),
      worker: { args: workerArgs, nodeArgs },
      variants: parseVariants(strArg('probe-also', '')),
      ...(flag('start-up-env') ? { startUpEnv: Object.fromEntries(strArg('start-up-env', '').split(',').map((kv) => kv.split('=') as [string, string])) } : {}),
      onPart: (w) => writeJson(Object.assign(json, { wide: w })),
    });
    writeJson(Object.assign(json, { wide: parts.wide }));
  }
  const summary = summaryLines(parts);
  writeJson(Object.assign(json, { summary }));
  process.stdout.write(['summary (targets are the issue\'s, printed for reading, not checked):', ...summary.map((l) => `- ${l}`), '', `results in ${BENCH_JSON}`, ''].join('\n'));
  // The worker's native runtime may hold the loop open a moment longer than needed.
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});

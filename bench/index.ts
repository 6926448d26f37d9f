// `npm run bench`: thought-probe's demo run beside a plain in-process runner of the same calls (bench/plain.ts),
// in alternating pairs in one invocation, against the servers' lower bound; or, with --zero-latency, model
// calls per second and the CPU each process spends. Writes bench/results/bench.json. Not part of the test suite.
//
//   npm run bench -- [--runs 3] [--latency-ms 200] [--config examples/demo.yaml]
//   npm run bench -- --zero-latency [--runs 3]
//   npm run bench -- --in-flight   (also samples each server's requests in flight at the sim; thought-probe then runs
//                                   through bench/lib.ts runDemoMeasured, runDemo's steps with the sim's URL at hand)
//
// The machine may be shared: run one benchmark at a time, and read single runs as noisy.
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
  sampleInFlight,
  type InFlight,
  selfCpuSeconds,
  spawnSimFor,
  strArg,
  type CpuWindow,
} from './lib';
import { runPlain, type PlainResult } from './plain';

const say = (s: string) => process.stderr.write(`${s}\n`);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

/** Whether two summaries hold the same science: equal scale and metrics (floats to 1e-9). */
function sameScience(a: Summary, b: Summary): { equal: boolean; firstDifference?: string } {
  const walk = (x: unknown, y: unknown, path: string): string | undefined => {
    if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) <= 1e-9 ? undefined : `${path}: ${x} vs ${y}`;
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return x === y ? undefined : `${path}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`;
    const kx = Object.keys(x).sort();
    const ky = Object.keys(y).sort();
    if (kx.join() !== ky.join()) return `${path}: keys ${kx.join(',')} vs ${ky.join(',')}`;
    for (const k of kx) {
      const d = walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  };
  const d = walk({ scale: a.scale, arms: a.arms }, { scale: b.scale, arms: b.arms }, 'summary');
  return d ? { equal: false, firstDifference: d } : { equal: true };
}

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
    const r = await runDemoMeasured({ config: configFile, latencyMs, sampleInFlight: true });
    return { seconds: r.ms / 1000, runId: r.runId, calls: plannedCalls(config).total, selfCpuSeconds: r.cpu.selfSeconds, simCpuSeconds: r.cpu.simSeconds ?? NaN, summary: r.result.summary, ...(r.inFlight ? { inFlight: r.inFlight } : {}) };
  }
  const self0 = selfCpuSeconds();
  const kids0 = reapedChildrenCpuSeconds();
  const { ms, runId, result } = await runDemo({ config: configFile, latencyMs, quiet: true, print: false });
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

function writeJson(out: unknown): string {
  const dir = join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'bench.json');
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  return file;
}

async function sideBySide(configFile: string, config: RunConfig, latencyMs: number, runs: number, inFlight: boolean): Promise<unknown> {
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
      `summaries ${out.sameScience ? 'equal' : 'DIFFER'} between the runners in every pair; results in ${writeJson(out)}`,
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

async function zeroLatency(configFile: string, config: RunConfig, runs: number): Promise<unknown> {
  const planned = plannedCalls(config);
  const rows: { order: string[]; probe: { seconds: number; callsPerSecond: number; cpu: CpuWindow; limit: string }; plain: { seconds: number; callsPerSecond: number; cpu: CpuWindow; limit: string } }[] = [];
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? ['thought-probe', 'plain'] : ['plain', 'thought-probe'];
    let probe: (typeof rows)[number]['probe'] | undefined;
    let plain: (typeof rows)[number]['plain'] | undefined;
    for (const who of order) {
      if (who === 'thought-probe') {
        const r = await runDemoMeasured({ config: configFile, latencyMs: 0 });
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
      `CPU is counted over each run's timed window only (worker start-up and workflow bundling excluded); results in ${writeJson(out)}`,
      '',
    ].join('\n'),
  );
  return out;
}

async function main(): Promise<void> {
  const runs = numArg('runs', 3);
  const zero = flag('zero-latency');
  const latencyMs = zero ? 0 : numArg('latency-ms', 200);
  const configFile = resolve(strArg('config', join(root, 'examples/demo.yaml')));
  const config = resolveConfigFile(configFile);
  // Started (or found) once, before any timing, so no run pays for it.
  const server = await ensureDevServer(say);
  if (server.started) say(`Temporal dev server started (pid ${server.pid}); it keeps running. Stop it with: kill ${server.pid}`);
  if (zero) await zeroLatency(configFile, config, runs);
  else await sideBySide(configFile, config, latencyMs, runs, flag('in-flight'));
  // The worker's native runtime may hold the loop open a moment longer than needed.
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});

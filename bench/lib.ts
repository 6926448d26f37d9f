// Shared pieces of the benchmarks: arguments, statistics, the servers' lower bound, CPU readings from /proc
// and a measured copy of the demo run. Not part of the test suite.
import type { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { follow } from '../src/cli/follow';
import { pointAtSim } from '../src/cli/demo';
import { startRun } from '../src/cli/run';
import { connectClient } from '../src/cli/temporal';
import { resolveConfigFile } from '../src/config/load';
import type { RunConfig } from '../src/config/schema';
import { planCounts } from '../src/experiment/plan';
import { spawnSim, type SimProcess } from '../src/sim/process';
import { createWorkers } from '../src/workers/worker';
import type { Summary } from '../src/experiment/summary';
import type { ProbeRunResult } from '../src/workflows/api';

/** The repository root. */
export const root = join(__dirname, '..');
/** The dataset the simulated endpoints answer from (as runDemo uses it). */
export const SIM_DATASET = join(root, 'examples/data/heldout.jsonl');

/** The value after `--name`, as a number, or the fallback. */
export function numArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number, got ${process.argv[i + 1] ?? '(nothing)'}`);
  return v;
}

/** The value after `--name`, or the fallback. */
export function strArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Whether `--name` is on the command line. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Model calls of a run as planned (no invalid-judge retries, no transport retries). */
export function plannedCalls(config: RunConfig): { perArm: number; judge: number; total: number } {
  const plan = planCounts(config.dataset.rows!.length, config.samplesPerPrefix, config.conditions);
  const perArm = plan.thoughts + plan.suffixes;
  const judge = plan.judgments * config.arms.length;
  return { perArm, judge, total: perArm * config.arms.length + judge };
}

/** One server's part of the lower bound. */
export interface ServerBound {
  server: string;
  calls: number;
  cap: number;
  earliestStartSeconds: number;
  seconds: number;
}

/**
 * The lower bound of a run's makespan: the largest over servers of its earliest start + calls × latency ÷ cap.
 * Each arm is a server (its own cap, from t = 0; its last suffix still needs one judge call after it); the
 * judge is one server over all arms, which can start once a first suffix exists (one generation if a condition
 * needs no model thought, else two).
 */
export function lowerBound(config: RunConfig, latencyMs: number): { seconds: number; servers: ServerBound[] } {
  const lat = latencyMs / 1000;
  const plan = planCounts(config.dataset.rows!.length, config.samplesPerPrefix, config.conditions);
  const servers: ServerBound[] = config.arms.map((a) => {
    const calls = plan.thoughts + plan.suffixes;
    return { server: `arm ${a.name}`, calls, cap: a.maxConcurrency, earliestStartSeconds: 0, seconds: (calls * lat) / a.maxConcurrency + lat };
  });
  const noThoughtFirst = config.conditions.some((c) => c === 'blank_thought' || c === 'generic_thought');
  const judgeStart = (noThoughtFirst ? 1 : 2) * lat;
  const judgeCalls = plan.judgments * config.arms.length;
  servers.push({ server: 'judge', calls: judgeCalls, cap: config.judge.maxConcurrency, earliestStartSeconds: judgeStart, seconds: judgeStart + (judgeCalls * lat) / config.judge.maxConcurrency });
  return { seconds: Math.max(...servers.map((s) => s.seconds)), servers };
}

const TICKS = 100; // USER_HZ on Linux

/** utime + stime of a live process in seconds, from /proc/<pid>/stat; undefined if it is gone. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds of this process's reaped children (cutime + cstime of /proc/self/stat). */
export function reapedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / TICKS;
}

/** CPU seconds of this process (all threads, including the Temporal SDK's native ones). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Busy and total CPU seconds of the whole machine, from /proc/stat. */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = v[3]! + v[4]!;
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

/** The pid of the Temporal dev server listening on the port of TEMPORAL_ADDRESS (localhost:7233), if it runs here. */
export function temporalServerPid(): number | undefined {
  const port = (process.env.TEMPORAL_ADDRESS ?? 'localhost:7233').split(':')[1] ?? '7233';
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const i = args.indexOf('start-dev');
    if (i < 1 || args[i - 1] !== 'server' || !/temporal$/.test(args[0] ?? '')) continue;
    const p = args.indexOf('--port');
    if ((p >= 0 ? args[p + 1] : '7233') === port) return Number(name);
  }
  return undefined;
}

/** Starts the simulated endpoints for a config, as runDemo does. */
export function spawnSimFor(config: RunConfig, latencyMs: number): Promise<SimProcess> {
  return spawnSim({ dataset: SIM_DATASET, latencyMs, armModels: config.arms.map((a) => a.model), judgeModel: config.judge.model });
}

/** CPU seconds spent during a measured window, by process. */
export interface CpuWindow {
  wallSeconds: number;
  /** This process: the client, the in-process worker (workflows, activities, the SDK's native threads). */
  selfSeconds: number;
  /** The simulated endpoints' child process. */
  simSeconds: number | null;
  /** The Temporal dev server, when it runs on this machine. */
  temporalSeconds: number | null;
  /** Every process on the machine (others' work too: the machine is shared). */
  machineBusySeconds: number;
  machineCores: number;
  /** Share of the window this process's event loop (its one JavaScript thread) was busy. */
  eventLoopUtilization: number;
}

interface CpuMark {
  t: number;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
  self: number;
  sim?: number;
  temporal?: number;
  machine: number;
}

/** Takes a reading of the processes a run uses. */
export function cpuMark(simPid?: number, temporalPid?: number): CpuMark {
  return {
    t: Date.now(),
    elu: performance.eventLoopUtilization(),
    self: selfCpuSeconds(),
    sim: simPid === undefined ? undefined : procCpuSeconds(simPid),
    temporal: temporalPid === undefined ? undefined : procCpuSeconds(temporalPid),
    machine: machineCpuSeconds().busy,
  };
}

/** The CPU spent between two readings. */
export function cpuBetween(a: CpuMark, b: CpuMark, cores: number): CpuWindow {
  const d = (x?: number, y?: number) => (x === undefined || y === undefined ? null : y - x);
  return {
    wallSeconds: (b.t - a.t) / 1000,
    selfSeconds: b.self - a.self,
    simSeconds: d(a.sim, b.sim),
    temporalSeconds: d(a.temporal, b.temporal),
    machineBusySeconds: b.machine - a.machine,
    machineCores: cores,
    eventLoopUtilization: performance.eventLoopUtilization(b.elu, a.elu).utilization,
  };
}

/**
 * The demo run of src/cli/demo.ts runDemo, step for step (resolved config, simulated endpoints in a child
 * process, an in-process worker, startRun + follow, quiet), with CPU readings at the same two instants that
 * runDemo's wall time is taken between. Assumes the dev server is up (call ensureDevServer first).
 * Keep in step with runDemo; a hook there (e.g. `onSim`, `onStart`/`onEnd`) would make this copy unnecessary.
 */
export async function runDemoMeasured(opts: { config: string; latencyMs: number; sampleInFlight?: boolean; workers?: Worker[] }): Promise<{ result: ProbeRunResult; ms: number; runId: string; cpu: CpuWindow; inFlight?: InFlight }> {
  const base = resolveConfigFile(opts.config);
  const sim = await spawnSimFor(base, opts.latencyMs);
  const own = opts.workers === undefined;
  const workers = opts.workers ?? (await createWorkers({ taskQueues: base.arms.map((a) => a.taskQueue) }));
  const running = own ? workers.map((w) => w.run()) : [];
  const temporalPid = temporalServerPid();
  try {
    const client = await connectClient();
    const runId = `${base.name}-zl-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
    const sampler = opts.sampleInFlight ? sampleInFlight(sim.url) : undefined;
    const before = cpuMark(sim.child.pid, temporalPid);
    const started = Date.now();
    const handle = await startRun(client, pointAtSim(base, sim.url), runId);
    const result = await follow(handle, true);
    const ms = Date.now() - started;
    const after = cpuMark(sim.child.pid, temporalPid);
    const inFlight = await sampler?.stop();
    return { result, ms, runId, cpu: cpuBetween(before, after, machineCores()), ...(inFlight ? { inFlight } : {}) };
  } finally {
    if (own) workers.forEach((w) => w.shutdown());
    await Promise.all(running);
    await sim.stop();
  }
}

/** Configured cores (the machine is shared; this is not what is free). */
export function machineCores(): number {
  return cpus().length;
}

/** Mean requests in flight per model at the simulated server, over a window, from its /stats every `everyMs`. */
export type InFlight = Record<string, { mean: number; peak: number; samples: number; /** Mean per second of the window. */ perSecond: number[] }>;

/** Polls the simulated server's in-flight counts until stopped (a poll every 250 ms costs next to nothing). */
export function sampleInFlight(simUrl: string, everyMs = 250): { stop(): Promise<InFlight> } {
  const statsUrl = `${simUrl.replace(/\/v1\/?$/, '')}/stats`;
  const acc: InFlight = {};
  const buckets: Record<string, { sum: number; n: number }[]> = {};
  const t0 = Date.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const s = (await (await fetch(statsUrl)).json()) as { models: Record<string, { inFlight: number }> };
        const second = Math.floor((Date.now() - t0) / 1000);
        for (const [m, v] of Object.entries(s.models)) {
          const a = (acc[m] ??= { mean: 0, peak: 0, samples: 0, perSecond: [] });
          a.mean += v.inFlight;
          a.peak = Math.max(a.peak, v.inFlight);
          a.samples++;
          const b = (buckets[m] ??= []);
          while (b.length <= second) b.push({ sum: 0, n: 0 });
          b[second]!.sum += v.inFlight;
          b[second]!.n++;
        }
      } catch {
        // A missed poll only thins the sample.
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      for (const [m, a] of Object.entries(acc)) {
        a.mean = a.samples ? a.mean / a.samples : 0;
        a.perSecond = (buckets[m] ?? []).map((b) => (b.n ? Math.round((10 * b.sum) / b.n) / 10 : 0));
      }
      return acc;
    },
  };
}

/** Whether two summaries hold the same science: equal scale and metrics (floats to 1e-9). */
export function sameScience(a: Summary, b: Summary): { equal: boolean; firstDifference?: string } {
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

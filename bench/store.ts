// The run store's cost: the note shape (examples/demo.yaml) with `store: { kind: file }` beside the same run with
// `store: { kind: postgres }` on a private PostgreSQL cluster (test/helpers/postgres.ts: initdb + pg_ctl on the
// loopback, as an unprivileged user when root), in alternating pairs in one invocation, at each latency asked
// (0 ms gives the zero-latency calls/s). Per run: makespan, calls/s, the worker's peak RSS (the worker runs in
// this process), CPU by process (this one, the sim, Temporal, PostgreSQL's server processes); per postgres
// run, a profile of the store's pool: statements by kind, their time, and the waits for a pooled connection.
// Part (e) of bench/index.ts (`npm run bench -- --store file,postgres`; its options are listed there). Runs go
// through bench/lib.ts runDemoMeasured at every latency, so their ids read `store-<kind>-zl-<time>` even at 200 ms.
// Not part of the test suite.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import { parse, stringify } from 'yaml';
import { resolveConfigFile } from '../src/config/load';
import type { RunConfig } from '../src/config/schema';
import { migrate } from '../src/store/migrate';
import { postgresPool } from '../src/store/postgres';
import { startPostgres, type PostgresCluster } from '../test/helpers/postgres';
import { median, plannedCalls, procCpuSeconds, root, runDemoMeasured, sameScience, type CpuWindow } from './lib';

export const STORE_KINDS_BENCHED = ['file', 'postgres'] as const;
export type BenchedStore = (typeof STORE_KINDS_BENCHED)[number];

/** The issue's target: the postgres store's makespan within 5% of the file store's (at 200 ms and 1000 ms). */
export const STORE_TARGET = { postgresOverFile: 1.05, latenciesMs: [200, 1000] };

const URL_ENV = 'THOUGHT_PROBE_DATABASE_URL';
const out = join(root, 'bench/results');
const say = (s: string) => process.stderr.write(`${s}\n`);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;

/** The note shape with a given store: a copy of the demo config (dataset path made absolute) in bench/results. */
function writeStoreConfig(configFile: string, store: BenchedStore): string {
  const doc = parse(readFileSync(configFile, 'utf8')) as Record<string, unknown> & { name: string; dataset: { path?: string }; output?: { dir?: string } };
  doc.name = `store-${store}`;
  if (doc.dataset.path) doc.dataset.path = resolve(dirname(resolve(configFile)), doc.dataset.path);
  doc.output = { ...(doc.output ?? {}), dir: join(out, 'store-runs') };
  doc.store = store === 'postgres' ? { kind: 'postgres', urlEnv: URL_ENV } : { kind: 'file' };
  mkdirSync(out, { recursive: true });
  const file = join(out, `store-${store}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

/** CPU seconds of a PostgreSQL server: the postmaster (with its reaped backends) and its live children. */
function postgresCpuSeconds(postmasterPid: number): number | undefined {
  let total: number;
  try {
    const stat = readFileSync(`/proc/${postmasterPid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime (fields 14-17)
    total = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return undefined;
  }
  let children = '';
  try {
    children = readFileSync(`/proc/${postmasterPid}/task/${postmasterPid}/children`, 'utf8');
  } catch {
    // No children file (an old kernel): the reaped share only.
  }
  for (const pid of children.trim().split(/\s+/).filter(Boolean)) total += procCpuSeconds(Number(pid)) ?? 0;
  return total;
}

function postmasterPid(cluster: PostgresCluster): number {
  return Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** What a statement is, by its text (the store's statements, src/store/postgres.ts). */
function statementKind(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.startsWith('INSERT INTO entries')) return 'put (INSERT entries)';
  if (t.startsWith('WITH s AS (SELECT pg_snapshot_xmin')) return 'prime (read new entries of an arm and kind)';
  if (t.startsWith('SELECT body FROM entries') && t.includes('key = $4')) return 'get (one entry)';
  if (t.startsWith('SELECT key, body FROM entries')) return 'read entries another process stored';
  if (t.startsWith('SELECT body FROM entries')) return 'all (list an arm and kind)';
  if (t.includes('documents')) return 'run document';
  if (t.includes('datasets')) return 'dataset';
  if (t.includes('WITH src AS')) return 'reuse';
  return t.slice(0, 40);
}

interface Timings {
  count: number;
  totalMs: number;
  samples: number[];
}

const timings = (): Timings => ({ count: 0, totalMs: 0, samples: [] });
function addTiming(t: Timings, ms: number): void {
  t.count++;
  t.totalMs += ms;
  t.samples.push(ms);
}
function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** A profile of the store's pool over one run: statements by kind with their time (pool wait + round trip), and waits for a connection. */
export interface PoolProfile {
  statements: number;
  byKind: Record<string, { count: number; totalMs: number; p50Ms: number; p90Ms: number; p99Ms: number }>;
  /** Checkouts of a pooled connection: how many found none free (all `max` busy) and queued, and the time to get one. */
  checkouts: { count: number; queued: number; waitTotalMs: number; waitP50Ms: number; waitP99Ms: number; waitMaxMs: number };
  /** Sampled every 20 ms: connections in use and statements queued for one. */
  sampled: { busyMean: number; busyPeak: number; queuedMean: number; queuedPeak: number; samples: number };
  poolMax: number;
}

/**
 * Wraps the process's pool of the store's URL (the one every PostgresRunStore on it uses, src/store/postgres.ts
 * postgresPool) so a run's statements and connection checkouts are counted and timed. About a microsecond per
 * statement, against round trips of a fraction of a millisecond and more.
 */
function instrumentPool(pool: Pool) {
  type Internals = { _pendingQueue: unknown[]; _clients: unknown[]; _idle: unknown[]; options: { max: number } };
  const internals = pool as unknown as Internals;
  let kinds = new Map<string, Timings>();
  let checkout = timings();
  let queued = 0;
  const origQuery = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const origConnect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: unknown }).query = (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string })?.text ?? '');
    const values = Array.isArray(args[1]) ? (args[1] as unknown[]) : [];
    // The store's entry statements carry (run, arm, kind, ...): split them by the entry kind.
    const base = statementKind(text);
    const kind = base.startsWith('put') || base.startsWith('prime') || base.startsWith('get') ? `${base}: ${String(values[2])}` : base;
    const t0 = performance.now();
    const r = origQuery(...args) as Promise<unknown>;
    const done = () => {
      let k = kinds.get(kind);
      if (!k) kinds.set(kind, (k = timings()));
      addTiming(k, performance.now() - t0);
    };
    if (r && typeof r.then === 'function') r.then(done, done);
    return r;
  };
  (pool as unknown as { connect: unknown }).connect = (...args: unknown[]) => {
    const cb = args[0];
    // As pg-pool decides: a checkout queues when every connection is busy and none is idle.
    const full = internals._clients.length >= internals.options.max && internals._idle.length === 0;
    if (full) queued++;
    const t0 = performance.now();
    if (typeof cb === 'function') {
      return origConnect((err: unknown, client: unknown, release: unknown) => {
        addTiming(checkout, performance.now() - t0);
        (cb as (...a: unknown[]) => void)(err, client, release);
      });
    }
    const p = origConnect() as Promise<unknown>;
    return p.finally(() => addTiming(checkout, performance.now() - t0));
  };
  let sampler: NodeJS.Timeout | undefined;
  let busy: number[] = [];
  let waiting: number[] = [];
  return {
    start(): void {
      kinds = new Map();
      checkout = timings();
      queued = 0;
      busy = [];
      waiting = [];
      sampler = setInterval(() => {
        busy.push(internals._clients.length - internals._idle.length);
        waiting.push(internals._pendingQueue.length);
      }, 20);
    },
    stop(): PoolProfile {
      clearInterval(sampler);
      const byKind: PoolProfile['byKind'] = {};
      let statements = 0;
      for (const [k, t] of [...kinds].sort((a, b) => b[1].count - a[1].count)) {
        statements += t.count;
        byKind[k] = { count: t.count, totalMs: t.totalMs, p50Ms: quantile(t.samples, 0.5), p90Ms: quantile(t.samples, 0.9), p99Ms: quantile(t.samples, 0.99) };
      }
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
      return {
        statements,
        byKind,
        checkouts: { count: checkout.count, queued, waitTotalMs: checkout.totalMs, waitP50Ms: quantile(checkout.samples, 0.5), waitP99Ms: quantile(checkout.samples, 0.99), waitMaxMs: Math.max(0, ...checkout.samples) },
        sampled: { busyMean: mean(busy), busyPeak: Math.max(0, ...busy), queuedMean: mean(waiting), queuedPeak: Math.max(0, ...waiting), samples: busy.length },
        poolMax: internals.options.max,
      };
    },
  };
}

/** Round trips of the store's pool on the machine as it is between runs: sequential, one at a time, p50 and p90 in ms. */
async function baselineRoundTrips(pool: Pool, n = 300): Promise<{ selectOne: { p50Ms: number; p90Ms: number }; insertEntry: { p50Ms: number; p90Ms: number }; n: number }> {
  const time = async (f: (i: number) => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await f(i);
      xs.push(performance.now() - t0);
    }
    return { p50Ms: quantile(xs, 0.5), p90Ms: quantile(xs, 0.9) };
  };
  const run = '__bench_round_trip__';
  const selectOne = await time(() => pool.query('SELECT 1'));
  // The store's own put statement (its trigger notifies a channel nobody listens on), on a scratch run.
  const insertEntry = await time((i) =>
    pool.query('INSERT INTO entries (run_id, arm, kind, key, body) VALUES ($1, $2, $3, $4, $5::json) ON CONFLICT DO NOTHING RETURNING seq', [run, 'a', 'records', `k${i}`, JSON.stringify({ key: `k${i}`, text: 'x'.repeat(600) })]),
  );
  await pool.query('DELETE FROM entries WHERE run_id = $1', [run]);
  return { selectOne, insertEntry, n };
}

/** A CPU profile of this process's main thread (activities, the store, the HTTP and PostgreSQL clients). */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a profiled function lives, coarsely. */
function categoryOf(frame: { functionName: string; url: string }): string {
  const u = frame.url;
  if (frame.functionName === '(garbage collector)') return 'garbage collection';
  if (frame.functionName === '(idle)') return '(idle)';
  if (frame.functionName === '(program)') return '(program: native, unattributed)';
  if (/node_modules\/(pg|pg-pool|pg-protocol|pg-types|pgpass|pg-connection-string|postgres-[a-z]+)\//.test(u)) return 'pg driver (node_modules/pg*)';
  if (u.includes('/src/store/')) return 'thought-probe store (src/store)';
  if (u.includes('/node_modules/openai/')) return 'openai client';
  if (u.includes('undici')) return 'undici (fetch)';
  if (u.includes('@temporalio')) return 'Temporal SDK';
  if (u.includes('/bench/')) return 'bench (samplers, instrumentation)';
  if (u.includes('/src/')) return 'thought-probe other (src)';
  if (u.includes('/node_modules/')) return 'other node_modules';
  if (u.startsWith('node:')) return 'node internals (net, streams, timers, async hooks)';
  return u ? 'other' : 'native (no script)';
}

/** Self time by category, in seconds, idle left out. */
function summariseProfile(p: CpuProfile): Record<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const acc: Record<string, number> = {};
  for (let i = 0; i < p.samples.length; i++) {
    const cat = categoryOf(byId.get(p.samples[i]!) ?? { functionName: '', url: '' });
    acc[cat] = (acc[cat] ?? 0) + (p.timeDeltas[i] ?? 0) / 1e6;
  }
  delete acc['(idle)'];
  return Object.fromEntries(Object.entries(acc).sort((a, b) => b[1] - a[1]));
}

/** Profiles `f` with the inspector's sampling profiler (1 ms), returning its value and the self time by category. */
async function profiled<T>(f: () => Promise<T>): Promise<{ value: T; selfSecondsByCategory: Record<string, number> }> {
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 1000 });
  await post('Profiler.start');
  try {
    const value = await f();
    const { profile } = (await post('Profiler.stop')) as { profile: CpuProfile };
    return { value, selfSecondsByCategory: summariseProfile(profile) };
  } finally {
    session.disconnect();
  }
}

/** One run with one store. */
export interface StoreRun {
  store: BenchedStore;
  runId: string;
  seconds: number;
  callsPerSecond: number;
  /** This process's peak RSS over the run (the worker runs in-process), sampled every 100 ms. */
  workerPeakRssBytes: number;
  /** This process's RSS when the run began (what earlier runs left). */
  rssAtStartBytes: number;
  cpu: CpuWindow;
  /** PostgreSQL's server processes over the run (every run: the server idles during file runs). */
  postgresCpuSeconds: number | null;
  /** This process's event-loop delay over the run (perf_hooks.monitorEventLoopDelay, 10 ms resolution), in ms. */
  eventLoopDelay: { meanMs: number; p50Ms: number; p99Ms: number; maxMs: number };
  profile?: PoolProfile;
  /** With --store-cpu-profile: this process's main-thread CPU by where it went (self time, seconds). */
  cpuProfile?: Record<string, number>;
}

type Summary = Awaited<ReturnType<typeof runDemoMeasured>>['result']['summary'];

/** The store part at one latency: `runs` alternating pairs (rounds of every store asked). */
export interface StoreComparison {
  latencyMs: number;
  /** The judge's cap and the sum of the arms' caps: the lanes of each. */
  judgeCap: number;
  armCaps: number;
  plannedCalls: ReturnType<typeof plannedCalls>;
  rounds: { order: BenchedStore[]; runs: StoreRun[]; sameScience: { equal: boolean; firstDifference?: string } }[];
  medians: Partial<Record<BenchedStore, { seconds: number; callsPerSecond: number; workerPeakRssBytes: number; postgresCpuSeconds: number | null; selfCpuSeconds: number; machineBusyCores: number; eventLoopDelayP50Ms: number; eventLoopDelayP99Ms: number }>>;
  /** postgres / file: of the medians, and per pair. */
  ratio?: { postgresOverFile: number; perPair: number[] };
}

export interface StoreBenchResult {
  kind: 'store';
  date: string;
  machine: string;
  config: string;
  stores: BenchedStore[];
  postgres?: { version: string; settings: Record<string, string>; poolMax: number; poolMaxOverridden: boolean; where: string; roundTrips?: Awaited<ReturnType<typeof baselineRoundTrips>> };
  target: typeof STORE_TARGET;
  latencies: StoreComparison[];
}

/** Parses `--store file,postgres`. */
export function parseStores(arg: string): BenchedStore[] {
  const stores = arg.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of stores) if (!(STORE_KINDS_BENCHED as readonly string[]).includes(s)) throw new Error(`--store: unknown store "${s}" (file, postgres)`);
  if (!stores.length) throw new Error('--store needs a list: file,postgres');
  return [...new Set(stores)] as BenchedStore[];
}

/**
 * Runs the comparison: starts the private PostgreSQL cluster when asked for, migrates its schema, makes one
 * untimed zero-latency run per store (unless `warmUp` is false), then per latency `runs` rounds with every store
 * (the order reversed each round), and stops the cluster.
 * `onLatency` gets the result so far after each latency (bench/index.ts writes bench.json with it).
 */
export async function runStoreBench(opts: { configFile: string; stores: BenchedStore[]; latencies: number[]; runs: number; workers?: Worker[]; warmUp?: boolean; poolMax?: number; cpuProfile?: boolean; onLatency?: (r: StoreBenchResult) => void }): Promise<StoreBenchResult> {
  const configs = Object.fromEntries(opts.stores.map((s) => [s, writeStoreConfig(opts.configFile, s)])) as Record<BenchedStore, string>;
  const config: RunConfig = resolveConfigFile(opts.configFile);
  const planned = plannedCalls(config);
  let cluster: PostgresCluster | undefined;
  let probe: ReturnType<typeof instrumentPool> | undefined;
  let pmPid: number | undefined;
  const result: StoreBenchResult = {
    kind: 'store',
    date: new Date().toISOString(),
    machine: `${cpus().length} cores`,
    config: opts.configFile,
    stores: opts.stores,
    target: STORE_TARGET,
    latencies: [],
  };
  try {
    if (opts.stores.includes('postgres')) {
      cluster = await startPostgres();
      process.env[URL_ENV] = cluster.url;
      const pool = postgresPool(cluster.url);
      // A what-if of the profile only: pg-pool reads options.max at each checkout, so a larger pool can be tried
      // without a change to src/store/postgres.ts POOL_OPTIONS (which the figures without this option use).
      if (opts.poolMax !== undefined) (pool as unknown as { options: { max: number } }).options.max = opts.poolMax;
      await migrate(pool);
      probe = instrumentPool(pool);
      pmPid = postmasterPid(cluster);
      const settings = await pool.query<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_connections')",
      );
      const version = (await pool.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v;
      result.postgres = {
        version,
        settings: Object.fromEntries(settings.rows.map((r) => [r.name, r.setting])),
        poolMax: (pool as unknown as { options: { max: number } }).options.max,
        poolMaxOverridden: opts.poolMax !== undefined,
        where: 'a private cluster on this machine (test/helpers/postgres.ts startPostgres), over TCP on 127.0.0.1',
      };
      result.postgres.roundTrips = await baselineRoundTrips(pool);
      const rt = result.postgres.roundTrips;
      say(`PostgreSQL round trips between runs, ${rt.n} sequential: SELECT 1 p50 ${f3(rt.selectOne.p50Ms)} ms (p90 ${f3(rt.selectOne.p90Ms)}); the store's INSERT p50 ${f3(rt.insertEntry.p50Ms)} ms (p90 ${f3(rt.insertEntry.p90Ms)})`);
      say(`PostgreSQL: ${version.split(',')[0]}, ${Object.entries(result.postgres.settings).map(([k, v]) => `${k}=${v}`).join(' ')}; pool max ${result.postgres.poolMax}${opts.poolMax !== undefined ? ' (set by --store-pool-max, a what-if: src/store/postgres.ts has 10)' : ''}`);
    }
    // One untimed run per store at zero latency first, so no timed run pays for a cold worker, a cold pool or cold code.
    if (opts.warmUp !== false) {
      for (const store of opts.stores) {
        await new Promise((r) => setTimeout(r, 1100));
        const r = await runDemoMeasured({ config: configs[store], latencyMs: 0, workers: opts.workers });
        say(`warm-up ${store} (${r.runId}): ${f1(r.ms / 1000)} s (not counted)`);
      }
    }
    for (const latencyMs of opts.latencies) {
      say(`store: ${opts.stores.join(' vs ')} at ${latencyMs} ms per request, ${opts.runs} rounds`);
      const rounds: StoreComparison['rounds'] = [];
      for (let i = 0; i < opts.runs; i++) {
        // Alternate who goes first, so a drift in the machine's load does not favour one store.
        const order = i % 2 === 0 ? [...opts.stores] : [...opts.stores].reverse();
        const runs: StoreRun[] = [];
        const summaries: Summary[] = [];
        for (const store of order) {
          // Run ids are named to the second: never two of one name in one second.
          await new Promise((r) => setTimeout(r, 1100));
          const rssAtStart = process.memoryUsage.rss();
          let rss = rssAtStart;
          const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage.rss())), 100);
          const lag = monitorEventLoopDelay({ resolution: 10 });
          lag.enable();
          const pg0 = pmPid === undefined ? undefined : postgresCpuSeconds(pmPid);
          if (store === 'postgres') probe?.start();
          let r: Awaited<ReturnType<typeof runDemoMeasured>>;
          let cpuProfile: Record<string, number> | undefined;
          try {
            const go = () => runDemoMeasured({ config: configs[store], latencyMs, workers: opts.workers });
            if (opts.cpuProfile) ({ value: r, selfSecondsByCategory: cpuProfile } = await profiled(go));
            else r = await go();
          } finally {
            clearInterval(sampler);
            lag.disable();
          }
          const profile = store === 'postgres' ? probe?.stop() : undefined;
          const pg1 = pmPid === undefined ? undefined : postgresCpuSeconds(pmPid);
          const run: StoreRun = {
            store,
            runId: r.runId,
            seconds: r.ms / 1000,
            callsPerSecond: planned.total / (r.ms / 1000),
            workerPeakRssBytes: Math.max(rss, process.memoryUsage.rss()),
            rssAtStartBytes: rssAtStart,
            cpu: r.cpu,
            postgresCpuSeconds: pg0 === undefined || pg1 === undefined ? null : pg1 - pg0,
            eventLoopDelay: { meanMs: lag.mean / 1e6, p50Ms: lag.percentile(50) / 1e6, p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6 },
            ...(profile ? { profile } : {}),
            ...(cpuProfile ? { cpuProfile } : {}),
          };
          runs.push(run);
          summaries.push(r.result.summary);
          say(
            `round ${i + 1}/${opts.runs} ${store} (${r.runId}): ${f1(run.seconds)} s, ${Math.round(run.callsPerSecond)} calls/s, peak RSS ${mb(run.workerPeakRssBytes)}` +
              `, machine ${f2(run.cpu.machineBusySeconds / run.cpu.wallSeconds)} of ${run.cpu.machineCores} cores busy, event-loop delay p50 ${f1(run.eventLoopDelay.p50Ms)} ms p99 ${f1(run.eventLoopDelay.p99Ms)} ms` +
              `${run.postgresCpuSeconds === null ? '' : `, PostgreSQL CPU ${f2(run.postgresCpuSeconds)} s`}${profile ? `, ${profile.statements} statements, ${profile.checkouts.queued} queued checkouts` : ''}`,
          );
        }
        const same = summaries.length > 1 ? sameScience(summaries[0]!, summaries[1]!) : { equal: true };
        if (!same.equal) say(`  the summaries differ: ${same.firstDifference}`);
        rounds.push({ order, runs, sameScience: same });
      }
      const medians: StoreComparison['medians'] = {};
      for (const s of opts.stores) {
        const mine = rounds.map((r) => r.runs.find((x) => x.store === s)!);
        const pg = mine.map((x) => x.postgresCpuSeconds);
        medians[s] = {
          seconds: median(mine.map((x) => x.seconds)),
          callsPerSecond: median(mine.map((x) => x.callsPerSecond)),
          workerPeakRssBytes: median(mine.map((x) => x.workerPeakRssBytes)),
          postgresCpuSeconds: pg.some((x) => x === null) ? null : median(pg as number[]),
          selfCpuSeconds: median(mine.map((x) => x.cpu.selfSeconds)),
          machineBusyCores: median(mine.map((x) => x.cpu.machineBusySeconds / x.cpu.wallSeconds)),
          eventLoopDelayP50Ms: median(mine.map((x) => x.eventLoopDelay.p50Ms)),
          eventLoopDelayP99Ms: median(mine.map((x) => x.eventLoopDelay.p99Ms)),
        };
      }
      const cmp: StoreComparison = { latencyMs, judgeCap: config.judge.maxConcurrency, armCaps: config.arms.reduce((a, x) => a + x.maxConcurrency, 0), plannedCalls: planned, rounds, medians };
      if (medians.file && medians.postgres) {
        const perPair = rounds.map((r) => r.runs.find((x) => x.store === 'postgres')!.seconds / r.runs.find((x) => x.store === 'file')!.seconds);
        cmp.ratio = { postgresOverFile: medians.postgres.seconds / medians.file.seconds, perPair };
      }
      result.latencies.push(cmp);
      result.machine = `${cpus().length} cores (shared; load average ${loadavg().map(f2).join(' ')} at the end)`;
      printComparison(cmp, opts.stores);
      opts.onLatency?.(result);
    }
    return result;
  } finally {
    delete process.env[URL_ENV];
    await cluster?.stop();
  }
}

function printComparison(c: StoreComparison, stores: BenchedStore[]): void {
  const lines = [
    `| store, ${c.latencyMs} ms per request (${c.plannedCalls.total} calls) | runs (s) | median (s) | calls/s (median) | worker peak RSS (median; runs) | this process CPU s (median) | PostgreSQL server CPU s (median) | whole machine busy, cores (median) | event-loop delay p50 / p99, ms (median) |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of stores) {
    const mine = c.rounds.map((r) => r.runs.find((x) => x.store === s)!);
    const m = c.medians[s]!;
    lines.push(
      `| ${s} | ${mine.map((x) => f1(x.seconds)).join(', ')} | ${f1(m.seconds)} | ${Math.round(m.callsPerSecond)} | ${mb(m.workerPeakRssBytes)} (${mine.map((x) => mb(x.workerPeakRssBytes)).join(', ')}) | ${f2(m.selfCpuSeconds)} | ${m.postgresCpuSeconds === null ? 'n/a' : f2(m.postgresCpuSeconds)} | ${f2(m.machineBusyCores)} | ${f1(m.eventLoopDelayP50Ms)} / ${f1(m.eventLoopDelayP99Ms)} |`,
    );
  }
  if (c.ratio) lines.push(`| postgres / file | ${c.ratio.perPair.map(f3).join(', ')} | ${f3(c.ratio.postgresOverFile)} | | | | | | |`);
  lines.push('', `summaries ${c.rounds.every((r) => r.sameScience.equal) ? 'equal' : 'DIFFER'} between the stores in every round`);
  const profiles = c.rounds.map((r) => r.runs.find((x) => x.store === 'postgres')?.profile).filter((p): p is PoolProfile => !!p);
  if (profiles.length) {
    const p = profiles[Math.floor(profiles.length / 2)]!;
    lines.push(
      `postgres store, the pool over one run (round ${Math.floor(profiles.length / 2) + 1}): ${p.statements} statements (${f2(p.statements / c.plannedCalls.total)} per model call); ` +
        `checkouts ${p.checkouts.count}, ${p.checkouts.queued} found all ${p.poolMax} connections busy; wait for a connection p50 ${f3(p.checkouts.waitP50Ms)} ms, p99 ${f2(p.checkouts.waitP99Ms)} ms, max ${f1(p.checkouts.waitMaxMs)} ms, total ${f1(p.checkouts.waitTotalMs / 1000)} s; ` +
        `connections busy mean ${f1(p.sampled.busyMean)} (peak ${p.sampled.busyPeak}), statements queued mean ${f1(p.sampled.queuedMean)} (peak ${p.sampled.queuedPeak})`,
    );
    // Each lane awaits its put before its next request: a put's time is added to its lane's path.
    const putMs = (kind: string) => p.byKind[`put (INSERT entries): ${kind}`]?.totalMs ?? 0;
    const judgeLanes = c.judgeCap;
    const armLanes = c.armCaps;
    lines.push(
      `  per lane, time awaiting puts (every lane waits for its put before its next request): judge ${f2(putMs('records') / judgeLanes / 1000)} s (records puts ${f1(putMs('records') / 1000)} s ÷ ${judgeLanes} lanes), ` +
        `arms ${f2((putMs('suffixes') + putMs('thoughts')) / armLanes / 1000)} s (thoughts + suffixes puts ÷ ${armLanes} lanes); the file store's puts are one synchronous write each`,
    );
    for (const [k, t] of Object.entries(p.byKind)) lines.push(`  ${k}: ${t.count}, ${f1(t.totalMs / 1000)} s in all, p50 ${f2(t.p50Ms)} ms, p90 ${f2(t.p90Ms)} ms, p99 ${f2(t.p99Ms)} ms`);
  }
  const withCpu = c.rounds.flatMap((r) => r.runs).filter((x) => x.cpuProfile);
  if (withCpu.length) {
    const cats = [...new Set(withCpu.flatMap((x) => Object.keys(x.cpuProfile!)))];
    const med = (s: BenchedStore, k: string) => median(withCpu.filter((x) => x.store === s).map((x) => x.cpuProfile![k] ?? 0));
    lines.push('', `this process's main thread, self CPU seconds by where it went (median of the profiled runs, sampled every 1 ms):`, `| where | ${stores.join(' | ')} |`, `| --- |${stores.map(() => ' ---: |').join('')}`);
    for (const k of cats.sort((a, b) => med(stores[stores.length - 1]!, b) - med(stores[stores.length - 1]!, a))) lines.push(`| ${k} | ${stores.map((s) => f2(med(s, k))).join(' | ')} |`);
    lines.push(`| total | ${stores.map((s) => f2(median(withCpu.filter((x) => x.store === s).map((x) => Object.values(x.cpuProfile!).reduce((a, b) => a + b, 0))))).join(' | ')} |`);
  }
  lines.push('');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The summary lines of the store part, against the target. */
export function storeSummaryLines(r: StoreBenchResult): string[] {
  const lines: string[] = [];
  for (const c of r.latencies) {
    const m = c.medians;
    const rss = r.stores.map((s) => `${s} ${mb(m[s]!.workerPeakRssBytes)}`).join(', ');
    if (c.ratio && m.file && m.postgres) {
      const targeted = STORE_TARGET.latenciesMs.includes(c.latencyMs);
      const verdict = targeted ? ` (target ≤ ${f2(STORE_TARGET.postgresOverFile)}: ${c.ratio.postgresOverFile <= STORE_TARGET.postgresOverFile ? 'met' : 'not met'})` : ' (no target at this latency)';
      const what = c.latencyMs === 0 ? `calls/s file ${Math.round(m.file.callsPerSecond)}, postgres ${Math.round(m.postgres.callsPerSecond)}; makespan` : 'makespan';
      lines.push(`(e) store at ${c.latencyMs} ms: ${what} postgres median ${f1(m.postgres.seconds)} s / file median ${f1(m.file.seconds)} s = ${f3(c.ratio.postgresOverFile)}${verdict}, per pair ${c.ratio.perPair.map(f3).join(', ')}; worker peak RSS (median) ${rss}`);
    } else {
      lines.push(`(e) store at ${c.latencyMs} ms: ${r.stores.map((s) => `${s} median ${f1(m[s]!.seconds)} s, ${Math.round(m[s]!.callsPerSecond)} calls/s`).join('; ')}; worker peak RSS (median) ${rss}`);
    }
  }
  return lines;
}

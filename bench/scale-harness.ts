// The deployed shape at 10x and 100x the note (issue 23, item 5): examples/demo.yaml (4 arms x 4 conditions x 4
// samples) with --prefixes distinct prefixes (bench/scale.ts scaleRows) at zero latency, as a user runs it:
//
// - a Temporal dev server of its own (the flags of infra/temporal/start-dev.sh on a free port, its SQLite file in
//   bench/results/scale-work; `--temporal-address HOST:PORT` uses another): on a shared server another process's
//   worker polling the run queue `thought-probe` would take this run's tasks;
// - the PostgreSQL store (`store: { kind: postgres, urlEnv: THOUGHT_PROBE_DATABASE_URL }`) in a private cluster
//   (test/helpers/postgres.ts startPostgres, as bench/memory.ts), one new database per run;
// - the simulated endpoints in a process of their own (`thought-probe sim`);
// - with `--topology split` (the default) two `thought-probe worker` processes: a model worker
//   (`--task-queue scale-models --no-run-queue`, where the config routes every arm and the judge: it runs the
//   generation and judge activities) and a run-queue worker (plain `thought-probe worker`, polling the run queue
//   `thought-probe`: the probeRun and probeArm workflows, prepareRun, the summary and writeArtifacts). In
//   Temporal terms the run-queue worker is the one whose task queue the run workflow was started on; arm activities
//   go to `arms[].taskQueue` and judging to `judge.taskQueue` (src/workflows/probeRun.ts). With `--topology single`
//   one `thought-probe worker` does all of it (bench/memory.ts's shape);
// - the run started by `thought-probe run CONFIG --detach --id ID` (the dataset by reference) and followed through
//   the Temporal client.
//
// Per run: makespan (the run's history, first event to close) and calls/s (the simulated server's request count);
// each worker's peak RSS (VmHWM) and its RSS sampled every 250 ms (/proc/PID/status VmRSS, timestamped); the largest
// history over every execution (children and continue-as-new chains) against Temporal's warnings (10,240 events,
// 10 MB); writeArtifacts' scheduled -> started -> completed from the run's history and the run-queue worker's peak
// sampled RSS inside that window; PostgreSQL's pg_database_size and the entries table's total size. Then, on the
// run's artifacts: report.html's size and, in Chromium (playwright-core, /usr/bin/chromium), its load event, the
// time until the sample browser's table has rows (and until they are painted) and until a filter answers, from
// navigation start, over --opens fresh contexts; `thought-probe view RUN_ID` (a child process with
// TEMPORAL_ADDRESS): the URL, the first GET /runs/ID/samples or /api/runs/ID/samples from process start (fresh
// processes, --view-starts of each), the same warm, the run page, and the process's RSS idle and after opening the
// run; `analyze`, `export`, `compare` (the run against itself), `power --run` and `power --samples` under
// /usr/bin/time -v (wall time, peak RSS), --tool-runs times each. Last, `analyze` of a 1,000x samples.jsonl
// (bench/scale-samples.ts: the largest run's records repeated under new prefix ids, 32,000 prefixes), streamed
// to disk and deleted afterwards.
//
// The CLI runs from a copy of bin/ and dist/ taken at start (in the system's temporary directory, node_modules
// linked back; removed at the end unless --keep), so a rebuild of dist/ while a long run goes on does not change
// the code under it; `--cli-root DIR` runs another built tree (a directory with bin/thought-probe.js, dist/ and
// node_modules, e.g. a build of HEAD made apart from a working tree mid-edit: see bench/results/scale-100x.md).
//
//   npm run bench:scale -- [--prefixes 320] [--runs 1] [--topology split|single] [--latency-ms 0]
//     [--opens 3] [--view-starts 3] [--tool-runs 1] [--skip-1000x] [--x1000-prefixes 32000] [--no-tools]
//     [--cli-root DIR] [--keep] [--hold] [--temporal-address HOST:PORT] [--chromium /usr/bin/chromium]
//     [--worker-node-options '...'] [--models-node-options '...'] [--run-queue-node-options '...']
//     [--tool-node-options '...'] [--view-node-options '...']   (e.g. '--cpu-prof --cpu-prof-dir=DIR', '--max-old-space-size=128')
//   npm run bench:scale -- --prefixes 320,3200 --runs 3,1     (10x three times, 100x once, compared)
//   npx tsx bench/scale.ts --md-from bench/results/scale-100x.json   (the markdown again from a result file)
//
// Writes bench/results/scale-100x.json and bench/results/scale-100x.md (a section for the README). Everything
// generated (datasets, run directories, exports, the 1,000x file) is under bench/results/scale-work and removed at
// the end unless --keep; --hold leaves the dev server and the cluster up at the end (their addresses in
// bench/results/scale-work/env.sh) until bench/results/scale-work/release exists, to profile by hand. Not part of the test suite; a 3,200-prefix run makes 460,800 model calls.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { Client as PgClient } from 'pg';
import { parse, stringify } from 'yaml';
import { startPostgres, type PostgresCluster } from '../test/helpers/postgres';
import { SCALE_LIMITS, runExecutions, scaleRows, type ExecutionStats } from './scale';
import { multiplySamples } from './scale-samples';
import { flag, median, numArg, root, strArg } from './scale-util';

const URL_ENV = 'THOUGHT_PROBE_DATABASE_URL';
const MODEL_QUEUE = 'scale-models';
const RESULTS = join(root, 'bench/results');
const WORK = join(RESULTS, 'scale-work');
/** Set by main: the bench's own dev server (or --temporal-address). */
let TEMPORAL_ADDRESS = '';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Targets of issue 23, item 5. */
export const TARGETS = {
  workerPeakRssBytes: 500 * 1024 * 1024,
  workerRssFlatRatio: 1.1,
  reportLoadMs: 2000,
  reportUsableMs: 3000,
  viewExtraRssBytes: 200 * 1024 * 1024,
  analyzePeakRssBytes: 1024 * 1024 * 1024,
  analyze1000xOver100x: 2,
};

const say = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;
const mb = (b: number | null | undefined) => (b === null || b === undefined || !Number.isFinite(b) ? 'n/a' : `${Math.round(b / MB).toLocaleString('en-US')} MB`);
const sec = (s: number | null | undefined, digits = 1) => (s === null || s === undefined || !Number.isFinite(s) ? 'n/a' : `${s.toFixed(digits)} s`);
const n = (x: number) => x.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------------------------
// Processes

/** Resident set of a process now and its peak (VmHWM, the kernel's own high-water mark), from /proc; zeros once it is gone. */
export function memoryOf(pid: number): { rssBytes: number; peakBytes: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rssBytes: kb('VmRSS'), peakBytes: kb('VmHWM') };
  } catch {
    return { rssBytes: 0, peakBytes: 0 };
  }
}

/** utime + stime of a live process in seconds (/proc/PID/stat); undefined once it is gone. */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** VmRSS of named processes every `everyMs`, timestamped (Date.now()). */
class RssSampler {
  readonly samples: Record<string, { t: number; rss: number }[]> = {};
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: Record<string, number>, everyMs = 250) {
    for (const name of Object.keys(pids)) this.samples[name] = [];
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  private sample(): void {
    const t = Date.now();
    for (const [name, pid] of Object.entries(this.pids)) {
      const { rssBytes } = memoryOf(pid);
      if (rssBytes) this.samples[name]!.push({ t, rss: rssBytes });
    }
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
  /** The largest sample of a process within [from, to] (ms since the epoch), with the count of samples there. */
  maxIn(name: string, from: number, to: number): { bytes: number; samples: number } {
    const xs = (this.samples[name] ?? []).filter((s) => s.t >= from && s.t <= to);
    return { bytes: xs.length ? Math.max(...xs.map((s) => s.rss)) : 0, samples: xs.length };
  }
  /** A timeline of one process: the largest sample per `bucketMs`, in MB, from `t0`. */
  timeline(name: string, t0: number, bucketMs = 5000): { s: number; rssMb: number }[] {
    const out = new Map<number, number>();
    for (const x of this.samples[name] ?? []) {
      const b = Math.floor((x.t - t0) / bucketMs);
      out.set(b, Math.max(out.get(b) ?? 0, x.rss));
    }
    return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([b, rss]) => ({ s: (b * bucketMs) / 1000, rssMb: Math.round(rss / MB) }));
  }
}

/** Resolves with the first match of `re` in a child's stdout (and keeps its output), or rejects on exit or timeout. */
function waitForOutput(child: ChildProcess, re: RegExp, what: string, timeoutMs = 120_000): Promise<RegExpExecArray> {
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no match of ${re} within ${timeoutMs / 1000} s\n${out}${err}`)), timeoutMs);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.length > 100_000) err = err.slice(-50_000);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before printing ${re}:\n${out}${err}`));
    });
  });
}

/** Stops a child we started (by its pid) and waits for it. */
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(t);
}

/** The built CLI the bench runs: a tree with bin/thought-probe.js and dist/. */
function cliRoot(): { dir: string; cli: string; source: string; copied?: boolean } {
  const given = strArg('cli-root', '');
  if (given) {
    const dir = given.startsWith('/') ? given : join(process.cwd(), given);
    if (!existsSync(join(dir, 'bin/thought-probe.js')) || !existsSync(join(dir, 'dist/cli/main.js'))) throw new Error(`--cli-root ${dir}: no bin/thought-probe.js and dist/cli/main.js there`);
    return { dir, cli: join(dir, 'bin/thought-probe.js'), source: `${dir}${existsSync(join(dir, 'COMMIT')) ? ` (commit ${readFileSync(join(dir, 'COMMIT'), 'utf8').trim()})` : ''}` };
  }
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is not built: npm run build (npm run bench:scale does it)');
  // Outside the repository (`npm run lint` and `typecheck` read all of bench/), with node_modules linked back.
  const dir = mkdtempSync(join(tmpdir(), 'thought-probe-scale-cli-'));
  cpSync(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return { dir, cli: join(dir, 'bin/thought-probe.js'), source: `a copy of ${join(root, 'dist')} built ${statSync(join(root, 'dist/cli/main.js')).mtime.toISOString()}`, copied: true };
}

let CLI = '';
/** Each run's database URL (with the private cluster's password: kept out of the results). */
const DATABASES = new Map<string, string>();

/** --hold: leaves the dev server and the cluster up for profiling by hand until WORK/release exists. */
async function hold(): Promise<void> {
  const envFile = join(WORK, 'env.sh');
  const lines = [`export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS}`, ...[...DATABASES.entries()].map(([runId, url]) => `# ${runId}\nexport ${URL_ENV}='${url}'`)];
  writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  say(`holding: source ${envFile} (the last run's database last); touch ${join(WORK, 'release')} to end`);
  while (!existsSync(join(WORK, 'release'))) await sleep(2000);
}

function nodeEnv(base: NodeJS.ProcessEnv, nodeOptions: string): NodeJS.ProcessEnv {
  return nodeOptions ? { ...base, NODE_OPTIONS: `${base.NODE_OPTIONS ?? ''} ${nodeOptions}`.trim() } : base;
}

function cliSpawn(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `thought-probe worker ...` in its own process, resolved once it polls. */
async function startWorker(args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = cliSpawn(['worker', ...args], env);
  await waitForOutput(child, /worker polling .*\n/, `thought-probe worker ${args.join(' ')}`, 120_000);
  // Keep draining its output (a full pipe would block it).
  child.stdout!.resume();
  child.stderr!.on('data', (b: Buffer) => process.stderr.write(`[worker ${args.join(' ') || 'run-queue'}] ${b.toString()}`));
  return child;
}

interface Sim {
  url: string;
  child: ChildProcess;
  stats(): Promise<{ totalRequests: number; models: Record<string, { requests: number; completed: number; errors: number }> }>;
}

async function startSim(armModels: string[], judgeModel: string, latencyMs: number): Promise<Sim> {
  const child = cliSpawn(['sim', '--port', '0', '--dataset', join(root, 'examples/data/heldout.jsonl'), '--latency-ms', String(latencyMs), '--arm-models', armModels.join(','), '--judge-model', judgeModel], process.env);
  const m = await waitForOutput(child, /listening on (\S+)/, 'thought-probe sim', 30_000);
  child.stdout!.resume();
  child.stderr!.resume();
  const url = m[1]!;
  return {
    url,
    child,
    stats: async () => (await (await fetch(`${url.replace(/\/v1\/?$/, '')}/stats`)).json()) as Awaited<ReturnType<Sim['stats']>>,
  };
}

/** GET over node:http (no client timeout: a first page of a large run may take minutes). */
function get(url: string): Promise<{ status: number; bytes: number; ms: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { method: 'GET' }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** A command under /usr/bin/time -v: its wall time (ours), GNU time's peak RSS and CPU, its exit. */
export interface ToolRun {
  command: string;
  seconds: number;
  maxRssBytes: number;
  userSeconds: number;
  systemSeconds: number;
  exitCode: number | null;
  /** The end of its stderr, when it failed. */
  error?: string;
}

async function timeTool(args: string[], env: NodeJS.ProcessEnv, stdoutFile: string): Promise<ToolRun> {
  const command = `thought-probe ${args.join(' ')}`;
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-v', process.execPath, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const seconds = (performance.now() - started) / 1000;
  writeFileSync(stdoutFile, Buffer.concat(out));
  const num = (re: RegExp) => Number(re.exec(err)?.[1] ?? NaN);
  const run: ToolRun = {
    command,
    seconds,
    maxRssBytes: num(/Maximum resident set size \(kbytes\): (\d+)/) * 1024,
    userSeconds: num(/User time \(seconds\): ([\d.]+)/),
    systemSeconds: num(/System time \(seconds\): ([\d.]+)/),
    exitCode: code,
  };
  if (code !== 0) {
    run.error = err.replace(/\n\s+Command being timed:[\s\S]*$/, '').slice(-4000);
    say(`  FAILED (${code}): ${command}\n${run.error}`);
  }
  return run;
}

/** A free TCP port on the loopback. */
function freePort(): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createServer } = require('node:net') as typeof import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The bench's own Temporal dev server, with the flags of infra/temporal/start-dev.sh (eager activities on) but its
 * own port and SQLite file and no UI: a dev server shared with other work shares the run queue `thought-probe`
 * too, so another process's worker would take this run's tasks (and this bench's workers another run's).
 */
async function startDevServer(dbFile: string): Promise<{ address: string; child: ChildProcess }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  const bin = execFileSync('bash', [join(root, 'infra/temporal/ensure-cli.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const port = await freePort();
  const child = spawn(bin, ['server', 'start-dev', '--db-filename', dbFile, '--ip', '127.0.0.1', '--port', String(port), '--headless', '--namespace', 'default', '--dynamic-config-value', 'system.enableActivityEagerExecution=true', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (b: Buffer) => process.stderr.write(`[temporal] ${b.toString()}`));
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited (${child.exitCode})`);
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.workflowService.describeNamespace({ namespace: 'default' });
      await c.close();
      return { address, child };
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`the Temporal dev server did not come up on ${address} within 60 s: ${(e as Error).message}`);
      await sleep(300);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Histories

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const evMs = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/** Times (ms since the epoch) of the run's phases, from its own history. */
interface RunPhases {
  startedAt: number;
  closedAt: number;
  /** The last arm child's completion. */
  armsDoneAt: number;
  writeArtifacts: { scheduledAt: number; startedAt: number | null; completedAt: number; attempt: number; ms: number } | null;
}

async function runPhases(client: Client, runId: string): Promise<RunPhases> {
  const events = ((await client.workflow.getHandle(runId).fetchHistory()).events ?? []) as HistoryEvent[];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'writeArtifacts');
  const id = scheduled ? String(scheduled.eventId) : '';
  const started = events.find((e) => e.activityTaskStartedEventAttributes && String(e.activityTaskStartedEventAttributes.scheduledEventId) === id);
  const completed = events.find((e) => e.activityTaskCompletedEventAttributes && String(e.activityTaskCompletedEventAttributes.scheduledEventId) === id);
  const children = events.filter((e) => e.childWorkflowExecutionCompletedEventAttributes).map(evMs);
  return {
    startedAt: evMs(events[0]!),
    closedAt: evMs(events[events.length - 1]!),
    armsDoneAt: children.length ? Math.max(...children) : 0,
    writeArtifacts:
      scheduled && completed
        ? { scheduledAt: evMs(scheduled), startedAt: started ? evMs(started) : null, completedAt: evMs(completed), attempt: started?.activityTaskStartedEventAttributes?.attempt ?? 1, ms: evMs(completed) - evMs(scheduled) }
        : null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// report.html in Chromium

/** Installed before the page's scripts: marks when the sample table first has rows, when they are painted, and when the browser says ready. */
const MARKS = `(() => {
  const tp = (window.__tp = {});
  const mark = (k) => { if (tp[k] === undefined) tp[k] = performance.now(); };
  const check = () => {
    if (tp.rows === undefined && document.querySelector('#samples tbody tr.row')) {
      mark('rows');
      requestAnimationFrame(() => setTimeout(() => mark('rowsPainted'), 0));
    }
    if (document.body && document.body.dataset.samples === 'ready') mark('ready');
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-samples'] });
})();`;

interface ReportOpen {
  loadMs: number;
  domContentLoadedMs: number;
  rowsMs: number | null;
  rowsPaintedMs: number | null;
  readyMs: number | null;
  usableMs: number;
  rowsBuilt: number;
  filterCount: string;
  jsHeapUsedBytes: number | null;
}

async function measureReport(file: string, opens: number): Promise<{ bytes: number; sampledNotice: string | null; opens: ReportOpen[]; error?: string }> {
  const bytes = statSync(file).size;
  const html = readFileSync(file, 'utf8');
  const notice = /<p class="notice" id="samples-sampled">([\s\S]*?)<\/p>/.exec(html)?.[1]?.replace(/<[^>]+>/g, '') ?? null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({ executablePath: strArg('chromium', process.env.CHROMIUM ?? '/usr/bin/chromium'), args: CHROMIUM_ARGS });
  const out: ReportOpen[] = [];
  try {
    for (let i = 0; i < opens; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.route('**', (route) => (route.request().url().startsWith('file:') ? route.continue() : (problems.push(route.request().url()), route.abort())));
      await page.addInitScript(MARKS);
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 300_000 });
      await page.waitForSelector('body[data-samples="ready"]', { timeout: 300_000 });
      await page.waitForFunction('window.__tp && window.__tp.rowsPainted !== undefined', undefined, { timeout: 60_000 }).catch(() => undefined);
      const o = (await page.evaluate(`(() => {
        const input = document.getElementById('filter');
        input.value = 'arm:think_phase3';
        input.dispatchEvent(new Event('input'));
        const usable = performance.now();
        const nav = performance.getEntriesByType('navigation')[0];
        const tp = window.__tp || {};
        return { loadMs: nav.loadEventStart, domContentLoadedMs: nav.domContentLoadedEventStart, rowsMs: tp.rows ?? null, rowsPaintedMs: tp.rowsPainted ?? null, readyMs: tp.ready ?? null,
          usableMs: usable, filterCount: document.getElementById('filter-count').textContent, rowsBuilt: document.querySelectorAll('#samples tbody tr.row').length,
          jsHeapUsedBytes: performance.memory ? performance.memory.usedJSHeapSize : null };
      })()`)) as ReportOpen;
      if (problems.length) throw new Error(`report.html did not open cleanly: ${problems.join('; ')}`);
      out.push(o);
      say(`  report open ${i + 1}: load ${o.loadMs.toFixed(0)} ms, rows ${o.rowsMs?.toFixed(0)} ms (painted ${o.rowsPaintedMs?.toFixed(0)} ms), usable ${o.usableMs.toFixed(0)} ms; ${o.rowsBuilt} rows built; filter: ${o.filterCount}`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return { bytes, sampledNotice: notice, opens: out };
}

// ---------------------------------------------------------------------------------------------------------------
// view

interface ViewStart {
  first: 'html' | 'api';
  /** Process start to the URL printed. */
  urlMs: number;
  /** Process start to the first samples page's last byte (the request sent as soon as the URL is printed). */
  firstFromStartMs: number;
  /** The first samples page's request alone. */
  firstRequestMs: number;
  firstBytes: number;
  /** RSS when the URL is printed. */
  rssAtUrlBytes: number;
  rssAfterFirstBytes: number;
  peakRssBytes: number;
}

interface ViewResult {
  /** Fresh processes, each asked for one first page as soon as it prints its URL. */
  starts: ViewStart[];
  /** One more process, left idle 3 s after its URL before anything is asked, then asked everything in `warm`. */
  memory: { idleRssBytes: number; firstRequestMs: number; rssAfterFirstBytes: number; peakAfterFirstBytes: number; rssAfterWarmBytes: number; peakRssBytes: number } | null;
  warm: Record<string, number[]>;
  peakRssBytes: number;
  errors: string[];
}

async function viewProcess(runId: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; urlMs: number; t0: number; rssAtUrl: number }> {
  const t0 = performance.now();
  const child = cliSpawn(['view', runId, '--port', '0'], env);
  try {
    const m = await waitForOutput(child, /read-only\) at (http:\/\/\S+?)\/?\s/, 'thought-probe view', 300_000);
    const urlMs = performance.now() - t0;
    const rssAtUrl = memoryOf(child.pid!).rssBytes;
    child.stdout!.resume();
    return { child, url: m[1]!, urlMs, t0, rssAtUrl };
  } catch (e) {
    await stop(child, 'SIGINT');
    throw e;
  }
}

async function measureView(runId: string, env: NodeJS.ProcessEnv, starts: number): Promise<ViewResult> {
  const base = `/runs/${encodeURIComponent(runId)}`;
  const firstPath = { html: `${base}/samples`, api: `/api${base}/samples` };
  const result: ViewResult = { starts: [], memory: null, warm: {}, peakRssBytes: 0, errors: [] };
  const viewEnv = nodeEnv({ ...env, TEMPORAL_ADDRESS }, strArg('view-node-options', ''));
  const check = (what: string, r: { status: number }) => {
    if (r.status !== 200) result.errors.push(`GET ${what}: ${r.status}`);
  };
  // The memory probe and the warm requests.
  try {
    const v = await viewProcess(runId, viewEnv);
    try {
      await sleep(3000);
      const idle = memoryOf(v.child.pid!).rssBytes;
      const first = await get(`${v.url}${firstPath.html}`);
      check(firstPath.html, first);
      const after = memoryOf(v.child.pid!);
      const cases: [string, string][] = [
        ['GET /runs/ID/samples', firstPath.html],
        ['GET /api/runs/ID/samples', firstPath.api],
        ['GET /runs/ID/samples?page=2', `${firstPath.html}?page=2`],
        ['GET /runs/ID/samples?arm=think_base&condition=blank_thought (filtered)', `${firstPath.html}?arm=think_base&condition=blank_thought`],
        ['GET /runs/ID/samples?q=fire+wind (search)', `${firstPath.html}?q=fire+wind`],
      ];
      for (const [what, path] of cases) {
        result.warm[what] = [];
        for (let k = 0; k < 3; k++) {
          const w = await get(`${v.url}${path}`);
          check(path, w);
          result.warm[what].push(w.ms);
        }
      }
      const runPage = await get(`${v.url}${base}`);
      check(base, runPage);
      result.warm['GET /runs/ID (run page, first: charts rendered)'] = [runPage.ms];
      result.warm['GET /runs/ID (run page, again)'] = [];
      for (let k = 0; k < 3; k++) result.warm['GET /runs/ID (run page, again)'].push((await get(`${v.url}${base}`)).ms);
      const end = memoryOf(v.child.pid!);
      result.memory = { idleRssBytes: idle, firstRequestMs: first.ms, rssAfterFirstBytes: after.rssBytes, peakAfterFirstBytes: after.peakBytes, rssAfterWarmBytes: end.rssBytes, peakRssBytes: end.peakBytes };
      result.peakRssBytes = end.peakBytes;
      say(`  view memory: idle ${mb(idle)} 3 s after its URL; first /samples page ${(first.ms / 1000).toFixed(2)} s, then RSS ${mb(after.rssBytes)} (peak ${mb(after.peakBytes)}); after the warm requests ${mb(end.rssBytes)} (peak ${mb(end.peakBytes)})`);
      for (const [what, ms] of Object.entries(result.warm)) say(`  view warm ${what}: ${ms.map((x) => x.toFixed(0)).join(', ')} ms`);
    } finally {
      await stop(v.child, 'SIGINT');
    }
  } catch (e) {
    result.errors.push((e as Error).message.slice(0, 4000));
    say(`  view FAILED: ${(e as Error).message.slice(0, 4000)}`);
  }
  // From process start.
  const order: ('html' | 'api')[] = [];
  for (let i = 0; i < starts; i++) order.push('html', 'api');
  for (const [i, first] of order.entries()) {
    try {
      const v = await viewProcess(runId, viewEnv);
      try {
        const r = await get(`${v.url}${firstPath[first]}`);
        check(firstPath[first], r);
        const firstFromStartMs = performance.now() - v.t0;
        const after = memoryOf(v.child.pid!);
        result.starts.push({ first, urlMs: v.urlMs, firstFromStartMs, firstRequestMs: r.ms, firstBytes: r.bytes, rssAtUrlBytes: v.rssAtUrl, rssAfterFirstBytes: after.rssBytes, peakRssBytes: after.peakBytes });
        result.peakRssBytes = Math.max(result.peakRssBytes, after.peakBytes);
        say(`  view start ${i + 1} (${first} first): URL after ${(v.urlMs / 1000).toFixed(2)} s, first page ${(firstFromStartMs / 1000).toFixed(2)} s from start (request ${(r.ms / 1000).toFixed(2)} s, ${n(r.bytes)} bytes); RSS at the URL ${mb(v.rssAtUrl)}, after ${mb(after.rssBytes)} (peak ${mb(after.peakBytes)})`);
      } finally {
        await stop(v.child, 'SIGINT');
      }
    } catch (e) {
      result.errors.push((e as Error).message.slice(0, 4000));
      say(`  view FAILED: ${(e as Error).message.slice(0, 4000)}`);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// One run

interface WorkerFigures {
  args: string;
  idleRssBytes: number;
  peakRssBytes: number;
  maxSampledRssBytes: number;
  cpuSeconds: number | null;
  rssTimelineMb: { s: number; rssMb: number }[];
}

export interface RunResult {
  prefixes: number;
  index: number;
  runId: string;
  topology: string;
  judged: number;
  calls: { total: number; byModel: Record<string, number>; errors: number };
  runCommandSeconds: number;
  makespanSeconds: number;
  wallSeconds: number;
  callsPerSecond: number;
  phases: { armsDoneSeconds: number; writeArtifactsScheduledSeconds: number | null; closeSeconds: number };
  workers: Record<string, WorkerFigures>;
  writeArtifacts: { ms: number; queuedMs: number | null; attempt: number; peakRssInWindowBytes: Record<string, number>; samplesInWindow: Record<string, number>; rssBeforeBytes: Record<string, number> } | null;
  largestHistory: { events: number; eventsWorkflowId: string; bytes: number; bytesWorkflowId: string };
  executions: number;
  continuedAsNew: number;
  withinHistoryLimits: boolean;
  histories: ExecutionStats[];
  postgres: { databaseBytes: number; entriesBytes: number; entriesRows: number; datasetsBytes: number; documentsBytes: number };
  artifacts: { dir: string; samplesBytes: number; reportHtmlBytes: number };
  report?: Awaited<ReturnType<typeof measureReport>>;
  view?: ViewResult;
  tools?: Record<string, ToolRun[]>;
  loadAverage: { start: number[]; end: number[] };
}

async function measureRun(prefixes: number, index: number, opts: Options, cluster: PostgresCluster, client: Client): Promise<RunResult> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const runId = `scale-${prefixes}-${stamp}-${index}`;
  const dir = join(WORK, runId);
  mkdirSync(dir, { recursive: true });
  const dataset = join(dir, 'data.jsonl');
  writeFileSync(dataset, scaleRows(prefixes));
  const dbUrl = await cluster.createDatabase(`scale_${prefixes}_${index}_${stamp.replace('-', '_')}`);
  DATABASES.set(runId, dbUrl);
  const env: NodeJS.ProcessEnv = { ...process.env, [URL_ENV]: dbUrl, TEMPORAL_ADDRESS };
  const doc = parse(readFileSync(join(root, 'examples/demo.yaml'), 'utf8')) as { name: string; dataset: Record<string, unknown>; arms: { model: string; baseURL: string; taskQueue?: string }[]; judge: { model: string; baseURL: string; taskQueue?: string }; output: unknown; store: unknown };
  const sim = await startSim(doc.arms.map((a) => a.model), doc.judge.model, opts.latencyMs);
  const workers: Record<string, ChildProcess> = {};
  const workerArgs: Record<string, string[]> = opts.topology === 'split' ? { models: ['--task-queue', MODEL_QUEUE, '--no-run-queue'], 'run-queue': [] } : { single: [] };
  try {
    doc.name = `scale-${prefixes}`;
    doc.dataset = { ...doc.dataset, path: dataset, limit: prefixes };
    doc.output = { dir: join(WORK, 'runs') };
    doc.store = { kind: 'postgres', urlEnv: URL_ENV };
    for (const a of doc.arms) {
      a.baseURL = sim.url;
      if (opts.topology === 'split') a.taskQueue = MODEL_QUEUE;
    }
    doc.judge.baseURL = sim.url;
    if (opts.topology === 'split') doc.judge.taskQueue = MODEL_QUEUE;
    const config = join(dir, 'config.yaml');
    writeFileSync(config, stringify(doc));
    // The run-queue worker first: it migrates the store (the model worker would too; an advisory lock keeps them apart).
    const workerEnv = nodeEnv(env, opts.workerNodeOptions);
    // --models-node-options / --run-queue-node-options: node options of one of the two (after --worker-node-options).
    for (const [name, args] of Object.entries(workerArgs)) workers[name] = await startWorker(args, nodeEnv(workerEnv, strArg(`${name}-node-options`, '')));
    await sleep(2000);
    const idle = Object.fromEntries(Object.entries(workers).map(([k, w]) => [k, memoryOf(w.pid!).rssBytes]));
    const cpu0 = Object.fromEntries(Object.entries(workers).map(([k, w]) => [k, cpuSecondsOf(w.pid!)]));
    const sampler = new RssSampler(Object.fromEntries(Object.entries(workers).map(([k, w]) => [k, w.pid!])));
    const load0 = loadavg();
    const t0 = Date.now();
    const runCmd = await timeTool(['run', config, '--detach', '--id', runId], env, join(dir, 'run.out'));
    if (runCmd.exitCode !== 0) throw new Error(`thought-probe run failed: ${runCmd.error}`);
    const handle = client.workflow.getHandle(runId);
    const progress = setInterval(() => {
      void (async () => {
        const s = await sim.stats().catch(() => undefined);
        const p = await handle.query<{ phase: string }>('progress').catch(() => undefined);
        const rss = Object.entries(workers).map(([k, w]) => `${k} ${mb(memoryOf(w.pid!).rssBytes)}`).join(', ');
        say(`  ${runId}: ${p?.phase ?? '?'}, ${s ? n(s.totalRequests) : '?'} calls, ${((Date.now() - t0) / 1000).toFixed(0)} s; RSS ${rss}`);
      })();
    }, opts.progressSeconds * 1000);
    let result: { summary: { scale: { judgedSuffixes: number } }; artifacts: { dir: string; samples: string; html: string } };
    try {
      result = (await handle.result()) as typeof result;
    } finally {
      clearInterval(progress);
    }
    const wallSeconds = (Date.now() - t0) / 1000;
    sampler.stop();
    const load1 = loadavg();
    const stats = await sim.stats();
    const peaks = Object.fromEntries(Object.entries(workers).map(([k, w]) => [k, memoryOf(w.pid!).peakBytes]));
    const cpu1 = Object.fromEntries(Object.entries(workers).map(([k, w]) => [k, cpuSecondsOf(w.pid!)]));
    const phases = await runPhases(client, runId);
    const { stats: histories } = await runExecutions(client, runId);
    const byEvents = histories.reduce((a, b) => (b.events > a.events ? b : a));
    const byBytes = histories.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const makespanSeconds = (phases.closedAt - phases.startedAt) / 1000;
    const wa = phases.writeArtifacts;
    const writeArtifacts = wa
      ? {
          ms: wa.ms,
          queuedMs: wa.startedAt === null ? null : wa.startedAt - wa.scheduledAt,
          attempt: wa.attempt,
          peakRssInWindowBytes: Object.fromEntries(Object.keys(workers).map((k) => [k, sampler.maxIn(k, wa.scheduledAt, wa.completedAt).bytes])),
          samplesInWindow: Object.fromEntries(Object.keys(workers).map((k) => [k, sampler.maxIn(k, wa.scheduledAt, wa.completedAt).samples])),
          rssBeforeBytes: Object.fromEntries(Object.keys(workers).map((k) => [k, sampler.maxIn(k, wa.scheduledAt - 5000, wa.scheduledAt).bytes])),
        }
      : null;
    const pg = new PgClient({ connectionString: dbUrl });
    await pg.connect();
    let postgres: RunResult['postgres'];
    try {
      const q = async (sql: string) => Number((await pg.query<{ v: string }>(sql)).rows[0]!.v);
      postgres = {
        databaseBytes: await q('SELECT pg_database_size(current_database()) AS v'),
        entriesBytes: await q("SELECT pg_total_relation_size('entries') AS v"),
        entriesRows: await q('SELECT count(*) AS v FROM entries'),
        datasetsBytes: await q("SELECT pg_total_relation_size('datasets') AS v"),
        documentsBytes: await q("SELECT pg_total_relation_size('documents') AS v"),
      };
    } finally {
      await pg.end();
    }
    const byModel = Object.fromEntries(Object.entries(stats.models).map(([m, s]) => [m, s.requests]));
    const r: RunResult = {
      prefixes,
      index,
      runId,
      topology: opts.topology,
      judged: result.summary.scale.judgedSuffixes,
      calls: { total: stats.totalRequests, byModel, errors: Object.values(stats.models).reduce((a, s) => a + s.errors, 0) },
      runCommandSeconds: runCmd.seconds,
      makespanSeconds,
      wallSeconds,
      callsPerSecond: stats.totalRequests / makespanSeconds,
      phases: {
        armsDoneSeconds: (phases.armsDoneAt - phases.startedAt) / 1000,
        writeArtifactsScheduledSeconds: wa ? (wa.scheduledAt - phases.startedAt) / 1000 : null,
        closeSeconds: (phases.closedAt - phases.startedAt) / 1000,
      },
      workers: Object.fromEntries(
        Object.entries(workers).map(([k]) => [
          k,
          {
            args: `thought-probe worker ${workerArgs[k]!.join(' ')}`.trim(),
            idleRssBytes: idle[k]!,
            peakRssBytes: peaks[k]!,
            maxSampledRssBytes: Math.max(0, ...sampler.samples[k]!.map((s) => s.rss)),
            cpuSeconds: cpu0[k] !== undefined && cpu1[k] !== undefined ? cpu1[k]! - cpu0[k]! : null,
            rssTimelineMb: sampler.timeline(k, t0),
          },
        ]),
      ),
      writeArtifacts,
      largestHistory: { events: byEvents.events, eventsWorkflowId: byEvents.workflowId, bytes: byBytes.bytes, bytesWorkflowId: byBytes.workflowId },
      executions: histories.length,
      continuedAsNew: histories.reduce((a, s) => a + s.continuedAsNew, 0),
      withinHistoryLimits: byEvents.events < SCALE_LIMITS.historyEvents && byBytes.bytes < SCALE_LIMITS.historyBytes,
      histories,
      postgres,
      artifacts: { dir: result.artifacts.dir, samplesBytes: statSync(result.artifacts.samples).size, reportHtmlBytes: statSync(result.artifacts.html).size },
      loadAverage: { start: load0, end: load1 },
    };
    const w = Object.entries(r.workers).map(([k, x]) => `${k} ${mb(x.peakRssBytes)} (idle ${mb(x.idleRssBytes)}, ${x.cpuSeconds?.toFixed(0)} CPU s)`).join('; ');
    say(`  ${runId}: ${n(r.judged)} judged, ${n(r.calls.total)} calls in ${makespanSeconds.toFixed(1)} s (${r.callsPerSecond.toFixed(0)} calls/s); worker peak RSS ${w}`);
    say(`  largest history ${n(r.largestHistory.events)} events (${r.largestHistory.eventsWorkflowId}), ${(r.largestHistory.bytes / MB).toFixed(2)} MB (${r.largestHistory.bytesWorkflowId}); ${r.executions} executions, ${r.continuedAsNew} continue-as-new`);
    if (writeArtifacts) say(`  writeArtifacts ${(writeArtifacts.ms / 1000).toFixed(1)} s (queued ${writeArtifacts.queuedMs} ms, attempt ${writeArtifacts.attempt}); peak RSS in it ${Object.entries(writeArtifacts.peakRssInWindowBytes).map(([k, b]) => `${k} ${mb(b)}`).join(', ')}`);
    say(`  PostgreSQL: database ${mb(postgres.databaseBytes)}, entries ${mb(postgres.entriesBytes)} (${n(postgres.entriesRows)} rows); samples.jsonl ${mb(r.artifacts.samplesBytes)}, report.html ${(r.artifacts.reportHtmlBytes / 1e6).toFixed(2)} MB`);
    // The workers and the sim are done: stop them before the tools are timed.
    for (const w2 of Object.values(workers)) await stop(w2);
    await stop(sim.child);
    if (opts.tools) {
      say(`  report.html in Chromium, ${opts.opens} opens...`);
      r.report = await measureReport(result.artifacts.html, opts.opens).catch((e: unknown) => ({ bytes: r.artifacts.reportHtmlBytes, sampledNotice: null, opens: [], error: (e as Error).message }));
      say(`  view, ${opts.viewStarts} fresh starts of each first page...`);
      r.view = await measureView(runId, env, opts.viewStarts);
      r.tools = await measureTools(r, env, dir, opts.toolRuns);
    }
    return r;
  } finally {
    for (const w of Object.values(workers)) await stop(w);
    await stop(sim.child);
  }
}

async function measureTools(r: RunResult, env: NodeJS.ProcessEnv, dir: string, runs: number): Promise<Record<string, ToolRun[]>> {
  const toolEnv = nodeEnv({ ...env, THOUGHT_PROBE_DEBUG: '1' }, strArg('tool-node-options', ''));
  const samples = join(r.artifacts.dir, 'samples.jsonl');
  const cases: [string, string[]][] = [
    ['analyze', ['analyze', '--samples', samples, '--out', join(dir, 'analyze')]],
    ['export', ['export', r.runId, '--out', join(dir, 'export')]],
    ['compare (run vs itself)', ['compare', samples, samples]],
    ['power --run', ['power', '--run', r.runId]],
    ['power --samples', ['power', '--samples', samples]],
  ];
  const out: Record<string, ToolRun[]> = {};
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of cases) {
      const t = await timeTool(args, toolEnv, join(dir, `${name.replace(/\W+/g, '-')}.out`));
      (out[name] ??= []).push(t);
      say(`  ${name}: ${t.seconds.toFixed(1)} s, peak RSS ${mb(t.maxRssBytes)}${t.exitCode === 0 ? '' : ` (exit ${t.exitCode})`}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The whole invocation

interface Options {
  sizes: number[];
  runs: number[];
  topology: 'split' | 'single';
  latencyMs: number;
  opens: number;
  viewStarts: number;
  toolRuns: number;
  tools: boolean;
  x1000: boolean;
  x1000Prefixes: number;
  keep: boolean;
  workerNodeOptions: string;
  progressSeconds: number;
}

function options(): Options {
  const sizes = strArg('prefixes', '320').split(',').map(Number);
  const runsList = strArg('runs', '1').split(',').map(Number);
  const runs = sizes.map((_, i) => runsList[i] ?? runsList[runsList.length - 1]!);
  const topology = strArg('topology', 'split');
  if (topology !== 'split' && topology !== 'single') throw new Error('--topology: split or single');
  if (sizes.some((s) => !Number.isInteger(s) || s < 1) || runs.some((r) => !Number.isInteger(r) || r < 1)) throw new Error('--prefixes and --runs: whole numbers');
  return {
    sizes,
    runs,
    topology,
    latencyMs: numArg('latency-ms', 0),
    opens: numArg('opens', 3),
    viewStarts: numArg('view-starts', 3),
    toolRuns: numArg('tool-runs', 1),
    tools: !flag('no-tools'),
    x1000: !flag('skip-1000x') && !flag('no-tools'),
    x1000Prefixes: numArg('x1000-prefixes', 32_000),
    keep: flag('keep'),
    workerNodeOptions: strArg('worker-node-options', ''),
    progressSeconds: numArg('progress-seconds', 30),
  };
}

/** Median over a size's runs of a figure. */
function med(runs: RunResult[], pick: (r: RunResult) => number | null | undefined): number {
  return median(runs.map(pick).filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));
}

function bySize(results: RunResult[]): Map<number, RunResult[]> {
  const m = new Map<number, RunResult[]>();
  for (const r of results) m.set(r.prefixes, [...(m.get(r.prefixes) ?? []), r]);
  return m;
}

function viewFigure(v: ViewResult | undefined, first: 'html' | 'api', pick: (s: ViewStart) => number): number {
  return median((v?.starts ?? []).filter((s) => s.first === first).map(pick));
}

/** Per size: the medians the markdown quotes, and the targets against them. */
function overview(results: RunResult[], x1000?: X1000) {
  const sizes = [...bySize(results).entries()].sort((a, b) => a[0] - b[0]);
  const perSize = sizes.map(([prefixes, runs]) => {
    const workers = Object.keys(runs[0]!.workers);
    const tool = (name: string, pick: (t: ToolRun) => number) => med(runs, (r) => (r.tools?.[name] ? median(r.tools[name]!.filter((t) => t.exitCode === 0).map(pick)) : null));
    return {
      prefixes,
      runs: runs.length,
      judged: runs[0]!.judged,
      calls: med(runs, (r) => r.calls.total),
      makespanSeconds: med(runs, (r) => r.makespanSeconds),
      makespans: runs.map((r) => r.makespanSeconds),
      callsPerSecond: med(runs, (r) => r.callsPerSecond),
      workerPeakRssBytes: Object.fromEntries(workers.map((k) => [k, med(runs, (r) => r.workers[k]?.peakRssBytes)])),
      workerPeakRssValues: Object.fromEntries(workers.map((k) => [k, runs.map((r) => r.workers[k]?.peakRssBytes ?? 0)])),
      workerIdleRssBytes: Object.fromEntries(workers.map((k) => [k, med(runs, (r) => r.workers[k]?.idleRssBytes)])),
      largestHistoryEvents: Math.max(...runs.map((r) => r.largestHistory.events)),
      largestHistoryBytes: Math.max(...runs.map((r) => r.largestHistory.bytes)),
      largestHistoryWorkflow: runs[0]!.largestHistory.eventsWorkflowId,
      executions: runs[0]!.executions,
      continuedAsNew: runs[0]!.continuedAsNew,
      writeArtifactsSeconds: med(runs, (r) => (r.writeArtifacts ? r.writeArtifacts.ms / 1000 : null)),
      writeArtifactsPeakRssBytes: Object.fromEntries(workers.map((k) => [k, med(runs, (r) => r.writeArtifacts?.peakRssInWindowBytes[k])])),
      writeArtifactsRssBeforeBytes: Object.fromEntries(workers.map((k) => [k, med(runs, (r) => r.writeArtifacts?.rssBeforeBytes[k])])),
      postgresDatabaseBytes: med(runs, (r) => r.postgres.databaseBytes),
      postgresEntriesBytes: med(runs, (r) => r.postgres.entriesBytes),
      entriesRows: med(runs, (r) => r.postgres.entriesRows),
      samplesBytes: med(runs, (r) => r.artifacts.samplesBytes),
      reportHtmlBytes: med(runs, (r) => r.artifacts.reportHtmlBytes),
      reportSampled: runs[0]!.report?.sampledNotice ?? null,
      reportLoadMs: med(runs, (r) => median((r.report?.opens ?? []).map((o) => o.loadMs))),
      reportRowsMs: med(runs, (r) => median((r.report?.opens ?? []).map((o) => o.rowsPaintedMs ?? o.rowsMs ?? NaN))),
      reportUsableMs: med(runs, (r) => median((r.report?.opens ?? []).map((o) => o.usableMs))),
      reportOpens: runs.flatMap((r) => (r.report?.opens ?? []).map((o) => ({ load: o.loadMs, rows: o.rowsPaintedMs ?? o.rowsMs, usable: o.usableMs }))),
      viewUrlMs: med(runs, (r) => median((r.view?.starts ?? []).map((s) => s.urlMs))),
      viewHtmlFromStartMs: med(runs, (r) => viewFigure(r.view, 'html', (s) => s.firstFromStartMs)),
      viewApiFromStartMs: med(runs, (r) => viewFigure(r.view, 'api', (s) => s.firstFromStartMs)),
      viewHtmlWarmMs: med(runs, (r) => median(r.view?.warm['GET /runs/ID/samples'] ?? [])),
      viewApiWarmMs: med(runs, (r) => median(r.view?.warm['GET /api/runs/ID/samples'] ?? [])),
      viewWarm: runs[runs.length - 1]!.view?.warm ?? {},
      viewIdleRssBytes: med(runs, (r) => r.view?.memory?.idleRssBytes),
      viewRssAfterFirstBytes: med(runs, (r) => r.view?.memory?.rssAfterFirstBytes),
      viewPeakRssBytes: med(runs, (r) => r.view?.memory?.peakRssBytes),
      viewRssAfterWarmBytes: med(runs, (r) => r.view?.memory?.rssAfterWarmBytes),
      viewPeakRssAnyBytes: med(runs, (r) => r.view?.peakRssBytes),
      viewErrors: runs.flatMap((r) => r.view?.errors ?? []),
      tools: Object.fromEntries(
        ['analyze', 'export', 'compare (run vs itself)', 'power --run', 'power --samples'].map((name) => [name, { seconds: tool(name, (t) => t.seconds), maxRssBytes: tool(name, (t) => t.maxRssBytes), failed: runs.flatMap((r) => (r.tools?.[name] ?? []).filter((t) => t.exitCode !== 0).map((t) => t.error ?? `exit ${t.exitCode}`)) }]),
      ),
    };
  });
  const small = perSize[0];
  const large = perSize[perSize.length - 1];
  const flat =
    small && large && small !== large
      ? Object.fromEntries(Object.keys(large.workerPeakRssBytes).map((k) => [k, large.workerPeakRssBytes[k]! / small.workerPeakRssBytes[k]!]))
      : null;
  const analyze100 = large?.tools.analyze;
  const targets = {
    workerPeakRssUnder500MB: large ? Object.fromEntries(Object.entries(large.workerPeakRssBytes).map(([k, b]) => [k, b < TARGETS.workerPeakRssBytes])) : null,
    workerRssFlatWithin10Percent: flat ? Object.fromEntries(Object.entries(flat).map(([k, ratio]) => [k, { ratio, met: ratio <= TARGETS.workerRssFlatRatio }])) : null,
    historiesUnderWarnings: results.every((r) => r.withinHistoryLimits),
    reportLoadUnder2s: large ? large.reportLoadMs < TARGETS.reportLoadMs : null,
    reportUsableUnder3s: large ? large.reportRowsMs < TARGETS.reportUsableMs && large.reportUsableMs < TARGETS.reportUsableMs : null,
    viewUnder200MBOverIdle: large ? large.viewPeakRssBytes - large.viewIdleRssBytes < TARGETS.viewExtraRssBytes : null,
    analyze1000xUnder1GB: x1000?.analyze ? x1000.analyze.maxRssBytes < TARGETS.analyzePeakRssBytes : null,
    analyze1000xUnder2xOf100x: x1000?.analyze && analyze100 ? { ratio: x1000.analyze.maxRssBytes / analyze100.maxRssBytes, met: x1000.analyze.maxRssBytes / analyze100.maxRssBytes < TARGETS.analyze1000xOver100x } : null,
  };
  return { perSize, targets };
}

interface X1000 {
  fromRunId: string;
  factor: number;
  prefixes: number;
  records: number;
  bytes: number;
  generateSeconds: number;
  analyze?: ToolRun;
}

async function analyze1000x(largest: RunResult, prefixesWanted: number): Promise<X1000> {
  const factor = Math.max(1, Math.round(prefixesWanted / largest.prefixes));
  const file = join(WORK, `samples-${largest.prefixes * factor}.jsonl`);
  say(`1,000x: ${largest.prefixes} prefixes x ${factor} from ${largest.runId}'s samples.jsonl into ${file}...`);
  const g = await multiplySamples(join(largest.artifacts.dir, 'samples.jsonl'), file, factor, largest.prefixes);
  say(`  ${n(g.records)} records, ${(g.bytes / 1e9).toFixed(2)} GB in ${g.seconds.toFixed(0)} s; analyze...`);
  const x: X1000 = { fromRunId: largest.runId, factor, prefixes: largest.prefixes * factor, records: g.records, bytes: g.bytes, generateSeconds: g.seconds };
  try {
    x.analyze = await timeTool(['analyze', '--samples', file, '--out', join(WORK, 'analyze-1000x')], nodeEnv({ ...process.env, THOUGHT_PROBE_DEBUG: '1' }, strArg('tool-node-options', '')), join(WORK, 'analyze-1000x.out'));
    say(`  analyze: ${(x.analyze.seconds / 60).toFixed(1)} min, peak RSS ${mb(x.analyze.maxRssBytes)}${x.analyze.exitCode === 0 ? '' : ` (exit ${x.analyze.exitCode})`}`);
  } finally {
    if (!flag('keep')) rmSync(file, { force: true });
  }
  return x;
}

export interface ScaleHarnessResult {
  kind: 'scale-100x';
  date: string;
  machine: string;
  cli: string;
  srcState: string;
  command: string;
  options: Options;
  limits: typeof SCALE_LIMITS;
  targets: typeof TARGETS;
  runs: RunResult[];
  x1000?: X1000;
  overview: ReturnType<typeof overview>;
}

function srcState(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    return `HEAD ${head}${dirty ? `; src/ had uncommitted changes (${dirty.split('\n').length} files) when the bench started` : ''}`;
  } catch {
    return 'unknown';
  }
}

/** --out FILE.json (default bench/results/scale-100x.json); the markdown goes beside it as FILE.md. */
function outPath(): string {
  const o = strArg('out', join(RESULTS, 'scale-100x.json'));
  if (!o.endsWith('.json')) throw new Error('--out: a .json file (the markdown is written beside it)');
  return o.startsWith('/') ? o : join(process.cwd(), o);
}

export async function main(): Promise<void> {
  const mdFrom = strArg('md-from', '');
  if (mdFrom) {
    const r = JSON.parse(readFileSync(mdFrom, 'utf8')) as ScaleHarnessResult;
    r.overview = overview(r.runs, r.x1000);
    writeFileSync(mdFrom.replace(/\.json$/, '.md'), markdown(r));
    process.stdout.write(markdown(r));
    return;
  }
  const opts = options();
  const cli = cliRoot();
  CLI = cli.cli;
  say(`CLI: ${cli.source}`);
  mkdirSync(WORK, { recursive: true });
  let devServer: ChildProcess | undefined;
  if (strArg('temporal-address', '')) TEMPORAL_ADDRESS = strArg('temporal-address', '');
  else {
    const dev = await startDevServer(join(WORK, 'temporal.sqlite'));
    TEMPORAL_ADDRESS = dev.address;
    devServer = dev.child;
    say(`Temporal dev server of this bench at ${TEMPORAL_ADDRESS} (pid ${dev.child.pid})`);
  }
  const cluster = await startPostgres();
  const connection = await Connection.connect({ address: TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  const results: RunResult[] = [];
  const outJson = outPath();
  const write = (x1000?: X1000) => {
    const r: ScaleHarnessResult = {
      kind: 'scale-100x',
      date: new Date().toISOString(),
      machine: `${cpus().length} cores, ${(Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)?.[1] ?? 0) / 1024 / 1024).toFixed(0)} GB (shared; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end)`,
      cli: cli.source,
      srcState: srcState(),
      command: `npm run bench:scale -- ${process.argv.slice(2).join(' ')}`.trim(),
      options: opts,
      limits: SCALE_LIMITS,
      targets: TARGETS,
      runs: results,
      ...(x1000 ? { x1000 } : {}),
      overview: overview(results, x1000),
    };
    writeFileSync(outJson, `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(outJson.replace(/\.json$/, '.md'), markdown(r));
    return r;
  };
  let x1000: X1000 | undefined;
  try {
    for (const [i, prefixes] of opts.sizes.entries()) {
      for (let k = 0; k < opts.runs[i]!; k++) {
        say(`${prefixes} prefixes, run ${k + 1}/${opts.runs[i]} (${opts.topology} workers, ${opts.latencyMs} ms per request)...`);
        results.push(await measureRun(prefixes, k, opts, cluster, client));
        write();
      }
    }
    if (opts.x1000 && results.length) {
      const largest = results.reduce((a, b) => (b.prefixes > a.prefixes ? b : a));
      x1000 = await analyze1000x(largest, opts.x1000Prefixes);
    }
    if (flag('hold')) {
      write(x1000);
      await hold();
    }
  } finally {
    await connection.close().catch(() => undefined);
    await cluster.stop();
    if (devServer) {
      // Its warnings while it shuts down are noise.
      devServer.stderr!.removeAllListeners('data');
      devServer.stderr!.resume();
      await stop(devServer);
    }
    const r = write(x1000);
    process.stdout.write(markdown(r));
    say(`results in ${outJson} and ${outJson.replace(/\.json$/, '.md')}`);
    if (!opts.keep) {
      rmSync(WORK, { recursive: true, force: true });
      if (cli.copied) rmSync(cli.dir, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

function markdown(r: ScaleHarnessResult): string {
  const { perSize, targets } = r.overview;
  const workers = Object.keys(perSize[0]?.workerPeakRssBytes ?? {});
  // writeArtifacts runs on the run-queue worker (or the single one).
  const artifactWorkers = workers.filter((k) => k !== 'models');
  const wname = (k: string) => ({ models: 'model worker', 'run-queue': 'run-queue worker', single: 'worker' })[k] ?? k;
  const met = (b: boolean | null | undefined) => (b === null || b === undefined ? 'not measured' : b ? '**met**' : '**not met**');
  const ms = (x: number) => (Number.isFinite(x) ? `${(x / 1000).toFixed(2)} s` : 'n/a');
  const runsNote = (p: (typeof perSize)[number]) => (p.runs > 1 ? `median of ${p.runs}` : 'one run');
  const lines: string[] = [];
  lines.push('### At 100 times the note: 3,200 prefixes, deployed');
  lines.push(
    `\`${r.command}\` (\`bench/scale.ts\`, \`bench/scale-harness.ts\`) runs examples/demo.yaml (4 arms x 4 conditions x 4 samples) with more prefixes at zero latency, as deployed: ` +
      `a Temporal dev server of the bench's own (SQLite file, eager activities on, as \`npm run temporal\`), the PostgreSQL store (\`store: { kind: postgres, urlEnv: THOUGHT_PROBE_DATABASE_URL }\`) in a private cluster started by the bench (a new database per run), the simulated endpoints in a process of their own, ` +
      (r.options.topology === 'split'
        ? 'and two `thought-probe worker` processes: a **model worker** (`--task-queue scale-models --no-run-queue`; the config routes every arm and the judge there, so it runs every generation and judge activity) and a **run-queue worker** (plain `thought-probe worker`: it polls `thought-probe`, the queue the run is started on, and runs the probeRun and probeArm workflows, prepareRun, the summary and writeArtifacts). '
        : 'and one `thought-probe worker` process for everything. ') +
      'The run is started with `thought-probe run CONFIG --detach` (the dataset by reference) and followed through the Temporal client.',
  );
  lines.push('');
  lines.push(`Machine: ${r.machine}; ${r.date.slice(0, 10)}. CLI: ${r.cli}; ${r.srcState}. ${perSize.map((p) => `${n(p.prefixes)} prefixes: ${runsNote(p)}`).join('; ')}.`);
  lines.push('');
  lines.push(`| prefixes (judged suffixes) | model calls | makespan | calls/s | ${workers.map((k) => `${wname(k)} peak RSS`).join(' | ')} | largest history | executions (continue-as-new) | writeArtifacts | ${artifactWorkers.map((k) => `${wname(k)} RSS in writeArtifacts (before)`).join(' | ')} | PostgreSQL database (entries) |`);
  lines.push(`| ---: | ---: | ---: | ---: | ${workers.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ${artifactWorkers.map(() => '---:').join(' | ')} | ---: |`);
  for (const p of perSize) {
    const spans = p.runs > 1 ? ` (${p.makespans.map((x) => x.toFixed(1)).join(', ')})` : '';
    lines.push(
      `| ${n(p.prefixes)} (${n(p.judged)}) | ${n(p.calls)} | ${sec(p.makespanSeconds)}${spans} | ${p.callsPerSecond.toFixed(0)} | ${workers.map((k) => mb(p.workerPeakRssBytes[k])).join(' | ')} | ${n(p.largestHistoryEvents)} events, ${(p.largestHistoryBytes / MB).toFixed(2)} MB | ${p.executions} (${p.continuedAsNew}) | ${sec(p.writeArtifactsSeconds)} | ${artifactWorkers.map((k) => `${mb(p.writeArtifactsPeakRssBytes[k])} (${mb(p.writeArtifactsRssBeforeBytes[k])})`).join(' | ')} | ${mb(p.postgresDatabaseBytes)} (${mb(p.postgresEntriesBytes)}, ${n(p.entriesRows)} rows) |`,
    );
  }
  lines.push('');
  lines.push(`Workers' RSS when idle, polling, before the run: ${perSize.map((p) => `${n(p.prefixes)}: ${workers.map((k) => `${wname(k)} ${mb(p.workerIdleRssBytes[k])}`).join(', ')}`).join('; ')}.`);
  lines.push('');
  lines.push('| prefixes | samples.jsonl | report.html | load event | table shows rows | filter answers ("usable") | samples kept in report.html |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const p of perSize) lines.push(`| ${n(p.prefixes)} | ${mb(p.samplesBytes)} | ${(p.reportHtmlBytes / 1e6).toFixed(2)} MB | ${ms(p.reportLoadMs)} | ${ms(p.reportRowsMs)} | ${ms(p.reportUsableMs)} | ${p.reportSampled ? p.reportSampled.replace(/\s+/g, ' ').replace(/\|/g, '\\|').replace(/ Browse.*$/, '') : 'all'} |`);
  lines.push('');
  lines.push(`Load times are medians of ${r.options.opens} opens per run in headless Chromium (${'`'}/usr/bin/chromium${'`'} via playwright-core), each in a fresh context, from navigation start; "table shows rows" is the first paint after the sample browser's table has rows, "usable" when a filter (\`arm:think_phase3\`) has answered.`);
  lines.push('');
  lines.push('| prefixes | `view RUN_ID`: URL printed | first /runs/ID/samples from process start | first /api/runs/ID/samples from process start | warm /runs/ID/samples | warm /api/runs/ID/samples | RSS idle | after the first page | after the warm requests (peak) | peak over idle |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const p of perSize) lines.push(`| ${n(p.prefixes)} | ${ms(p.viewUrlMs)} | ${ms(p.viewHtmlFromStartMs)} | ${ms(p.viewApiFromStartMs)} | ${ms(p.viewHtmlWarmMs)} | ${ms(p.viewApiWarmMs)} | ${mb(p.viewIdleRssBytes)} | ${mb(p.viewRssAfterFirstBytes)} | ${mb(p.viewRssAfterWarmBytes)} (${mb(p.viewPeakRssBytes)}) | ${mb(p.viewPeakRssBytes - p.viewIdleRssBytes)} |`);
  lines.push('');
  lines.push(`From process start: medians of ${r.options.viewStarts} fresh \`view\` processes per first page, each asked as soon as it printed its URL (\`TEMPORAL_ADDRESS\` and the store's URL in its environment). Warm and RSS: one more process, left idle 3 s after printing its URL (RSS idle), then asked the first samples page (RSS after it), then each warm request 3 times (medians), the run page included; peak is its VmHWM.`);
  const warmLast = perSize[perSize.length - 1]?.viewWarm ?? {};
  if (Object.keys(warmLast).length) lines.push(`Other warm requests at ${n(perSize[perSize.length - 1]!.prefixes)} prefixes: ${Object.entries(warmLast).filter(([k]) => !/^GET \/(api\/)?runs\/ID\/samples$/.test(k)).map(([k, v]) => `${k.replace(/^GET /, '')} ${ms(median(v))}`).join('; ')}.`);
  const verr = perSize.flatMap((p) => p.viewErrors);
  if (verr.length) lines.push(`view errors: ${verr.map((e) => e.split('\n')[0]).join('; ')}`);
  lines.push('');
  const toolNames = ['analyze', 'export', 'compare (run vs itself)', 'power --run', 'power --samples'];
  lines.push(`| command | ${perSize.map((p) => `${n(p.prefixes)} prefixes: time, peak RSS`).join(' | ')} |${r.x1000?.analyze ? ` ${n(r.x1000.prefixes)} prefixes (${n(r.x1000.records)} records, ${(r.x1000.bytes / 1e9).toFixed(2)} GB) |` : ''}`);
  lines.push(`| --- | ${perSize.map(() => '---:').join(' | ')} |${r.x1000?.analyze ? ' ---: |' : ''}`);
  for (const t of toolNames) {
    const cells = perSize.map((p) => {
      const x = p.tools[t];
      if (!x) return 'n/a';
      if (x.failed.length && !Number.isFinite(x.seconds)) return `failed (${x.failed[0]!.split('\n').map((l) => l.trim()).find((l) => l.startsWith('error:'))?.slice(0, 100) ?? 'see below'})`;
      return `${sec(x.seconds)}, ${mb(x.maxRssBytes)}`;
    });
    const big = r.x1000?.analyze && t === 'analyze' ? ` ${(r.x1000.analyze.seconds / 60).toFixed(1)} min, ${mb(r.x1000.analyze.maxRssBytes)} |` : r.x1000?.analyze ? ' |' : '';
    lines.push(`| \`${t === 'analyze' ? 'analyze --samples' : t === 'export' ? 'export RUN_ID' : t === 'compare (run vs itself)' ? 'compare samples.jsonl samples.jsonl' : t}\` | ${cells.join(' | ')} |${big}`);
  }
  lines.push('');
  lines.push(`Each under \`/usr/bin/time -v\` (peak RSS is its maximum resident set)${r.options.toolRuns > 1 ? `, medians of ${r.options.toolRuns}` : ', one run each'}.${r.x1000 ? ` The ${n(r.x1000.prefixes)}-prefix samples.jsonl is the ${n(r.x1000.prefixes / r.x1000.factor)}-prefix run's, each prefix's records repeated ${r.x1000.factor} times under new prefix ids (\`bench/scale-samples.ts\`, written in ${r.x1000.generateSeconds.toFixed(0)} s and deleted after).` : ''}`);
  lines.push('');
  lines.push('Targets:');
  const large = perSize[perSize.length - 1];
  if (targets.workerPeakRssUnder500MB && large) lines.push(`- Worker peak RSS under 500 MB at ${n(large.prefixes)} prefixes: ${Object.entries(targets.workerPeakRssUnder500MB).map(([k, b]) => `${wname(k)} ${mb(large.workerPeakRssBytes[k])}: ${met(b)}`).join('; ')}.`);
  if (targets.workerRssFlatWithin10Percent) lines.push(`- Flat from ${n(perSize[0]!.prefixes)} to ${n(large!.prefixes)} prefixes within 10%: ${Object.entries(targets.workerRssFlatWithin10Percent).map(([k, x]) => `${wname(k)} ${x.ratio.toFixed(2)}x: ${met(x.met)}`).join('; ')}.`);
  lines.push(`- Every history under Temporal's warnings (10,240 events, 10 MB): ${met(targets.historiesUnderWarnings)} (largest ${large ? `${n(large.largestHistoryEvents)} events, ${(large.largestHistoryBytes / MB).toFixed(2)} MB` : 'n/a'}).`);
  lines.push(`- report.html load under 2 s: ${met(targets.reportLoadUnder2s)}; usable under 3 s: ${met(targets.reportUsableUnder3s)}.`);
  lines.push(`- \`view\` under 200 MB over idle: ${met(targets.viewUnder200MBOverIdle)}.`);
  lines.push(`- \`analyze\` of the 1,000x file under 1 GB peak RSS: ${met(targets.analyze1000xUnder1GB)}; under 2x the 100x figure: ${targets.analyze1000xUnder2xOf100x ? `${targets.analyze1000xUnder2xOf100x.ratio.toFixed(2)}x, ${met(targets.analyze1000xUnder2xOf100x.met)}` : 'not measured'}.`);
  const gist = (e: string) => {
    const ls = e.split('\n').map((l) => l.trim()).filter(Boolean);
    const i = ls.findIndex((l) => l.startsWith('error:'));
    return (i >= 0 ? ls.slice(i, i + 3) : ls.slice(-3)).join(' / ');
  };
  const failed = perSize.flatMap((p) => Object.entries(p.tools).flatMap(([t, x]) => x.failed.map((e) => `${n(p.prefixes)} prefixes, \`${t}\`: ${gist(e)}`)));
  if (r.x1000?.analyze && r.x1000.analyze.exitCode !== 0) failed.push(`1,000x analyze: ${r.x1000.analyze.error}`);
  if (failed.length) {
    lines.push('');
    lines.push('Failures:');
    for (const f of failed) lines.push(`- ${f}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The production form, proved by counting: a real Temporal cluster (server 1.29.1 as four processes: frontend,
 * history, matching, worker) on PostgreSQL, started by the project's own script (infra/temporal/cluster.sh, through
 * test/helpers/cluster.ts), the run store in its own database on the same PostgreSQL, a `thought-probe worker`
 * process, and real HTTP to a simulated server. Each scenario compares with the plan (arms x conditions x prefixes x
 * samples): the requests each model saw, the rows of the store's entries table, the records of samples.jsonl (all
 * present, none twice, none lost). Faults: a service SIGKILLed mid-run and started again seconds later (history,
 * then matching), and PostgreSQL restarted under both Temporal and the store. A table is printed at the end.
 */
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import type { RunConfig } from '../../src/config/schema';
import { startSimServer, type SimServer } from '../../src/sim';
import { armWorkflowId, type ProbeRunResult } from '../../src/workflows/api';
import { startCluster, type ClusterService, type TemporalCluster } from '../helpers/cluster';
import { heldoutRows, simConfig, tempDir } from '../helpers/configs';
import { planOf, type AuditRow, type RunPlan } from '../helpers/fault-audit';
import { killHosts, startHost, type Host } from '../helpers/hosts';
import { auditSamples, countEntryRows, requestsOf, type SamplesAudit } from '../helpers/store-audit';

const URL_ENV = 'THOUGHT_PROBE_DATABASE_URL';
const JUDGE = 'qwen-judge';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let cluster: TemporalCluster;
let sim: SimServer;
let connection: Connection;
let client: Client;
let worker: Host;
let store: PgClient;
const outDir = tempDir('tp-e2e-cluster-');

/** One line of the table printed after the suite. */
type Row = AuditRow;
const table: Row[] = [];

async function connectStore(): Promise<PgClient> {
  const c = new PgClient({ connectionString: cluster.storeUrl });
  // A restart of the server cuts this connection; the test reconnects after it.
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

beforeAll(async () => {
  sim = await startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 100 });
  cluster = await startCluster();
  connection = await Connection.connect({ address: cluster.address });
  client = new Client({ connection, namespace: 'default' });
  store = await connectStore();
  worker = startHost({ identity: 'cluster-worker', address: cluster.address, taskQueues: [], runQueue: true, env: { [URL_ENV]: cluster.storeUrl }, privateDirs: [], isolated: false });
  await worker.ready;
}, 900_000);

afterAll(async () => {
  await killHosts();
  await store?.end().catch(() => undefined);
  await connection?.close();
  await sim?.close();
  await cluster?.stop();
  const cols = Object.keys(table[0] ?? {}) as (keyof Row)[];
  if (cols.length) {
    const lines = [cols.join(' | '), cols.map(() => '---').join(' | '), ...table.map((r) => cols.map((c) => String(r[c])).join(' | '))];
    process.stdout.write(`\nTemporal cluster (4 processes) on PostgreSQL, postgres store (SIMULATED servers)\n${lines.join('\n')}\n`);
  }
}, 120_000);

/** A run on the PostgreSQL store: every condition, `prefixes` x 2 samples, small caps so faults land with requests in flight. */
function clusterConfig(armNames: string[], prefixes: number, armCap: number, judgeCap: number): RunConfig {
  return simConfig(sim.url, {
    armNames,
    dataset: { limit: prefixes } as never,
    arms: armNames.map((name) => ({ name, baseURL: sim.url, model: name, maxConcurrency: armCap, maxRetryIntervalSeconds: 2 })),
    judge: { baseURL: sim.url, model: JUDGE, maxConcurrency: judgeCap, maxRetryIntervalSeconds: 2 },
    store: { kind: 'postgres', urlEnv: URL_ENV },
    output: { dir: outDir },
  });
}

/** Entries of a run in the store, straight from the entries table (-1 while the database is away). */
async function stored(runId: string): Promise<number> {
  try {
    const { rows } = await store.query<{ n: string }>("SELECT count(*)::text AS n FROM entries WHERE run_id = $1 AND kind <> 'failures'", [runId]);
    return Number(rows[0]!.n);
  } catch {
    return -1;
  }
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nworker:\n${worker.output()}`);
    await sleep(20);
  }
}

/** Requests the sim saw (every model) minus the entries stored: the requests whose answer is not kept yet. */
async function inFlight(runId: string): Promise<number> {
  const s = sim.stats();
  const sent = Object.values(s.models).reduce((n, m) => n + m.requests, 0);
  return sent - (await stored(runId));
}

/** The run's result, asking again while a service or the database is away (the client's own retries give up sooner). */
async function resultOf(runId: string, timeoutMs = 180_000): Promise<ProbeRunResult> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await client.workflow.getHandle(runId).result()) as ProbeRunResult;
    } catch (e) {
      if (Date.now() > until || (e as Error).name === 'WorkflowFailedError') throw e;
      await sleep(500);
    }
  }
}

/** Everything counted about a finished run. */
interface Outcome {
  runId: string;
  plan: RunPlan;
  config: RunConfig;
  ms: number;
  arm: ReturnType<typeof requestsOf>;
  judge: ReturnType<typeof requestsOf>;
  samples: SamplesAudit;
  entryRows: Record<string, number>;
}

async function startRun(id: string, config: RunConfig): Promise<{ runId: string; started: number }> {
  const runId = `cluster-${id}-${Date.now()}`;
  sim.resetStats();
  await client.workflow.start('probeRun', { args: [config], workflowId: runId, taskQueue: 'thought-probe' });
  return { runId, started: Date.now() };
}

async function finish(runId: string, config: RunConfig, started: number): Promise<Outcome> {
  const result = await resultOf(runId);
  const plan = planOf(config);
  const stats = [sim.stats()];
  return {
    runId,
    plan,
    config,
    ms: Date.now() - started,
    arm: requestsOf(stats, config.arms.map((a) => a.model)),
    judge: requestsOf(stats, [JUDGE]),
    samples: auditSamples(result.artifacts.samples, plan),
    entryRows: (await countEntryRows(cluster.storeUrl, runId)).perKind,
  };
}

function report(scenario: string, injected: string, o: Outcome, extra = '-'): { pass(): void } {
  const p = o.plan;
  const row: Row = {
    scenario,
    injected,
    arm: `${o.arm.requests} / ${p.armRequests} (+${o.arm.requests - p.armRequests}; ${o.arm.errors} failed at sim)`,
    judge: `${o.judge.requests} / ${p.judgeRequests} (+${o.judge.requests - p.judgeRequests}; ${o.judge.errors} failed at sim)`,
    records: `${o.samples.records} / ${p.records}`,
    duplicates: o.samples.duplicates,
    lost: o.samples.lost,
    extra,
    seconds: (o.ms / 1000).toFixed(1),
    status: 'FAIL',
  };
  table.push(row);
  return { pass: () => void (row.status = 'pass') };
}

/** What every scenario claims: complete, one record per planned key, the store holding each entry once. */
function expectCompleteAndUnique(o: Outcome): void {
  const p = o.plan;
  expect(o.samples).toEqual({ records: p.records, duplicates: 0, lost: 0, unplanned: 0, invalid: 0, errors: 0, judgeCalls: p.judgeRequests });
  // The entries table's primary key makes a second copy impossible; the counts say nothing is missing either.
  expect(o.entryRows).toEqual({ thoughts: p.armRequests - p.judgeRequests, suffixes: p.judgeRequests, records: p.records });
}

const extraCalls = (o: Outcome) => o.arm.requests - o.plan.armRequests + (o.judge.requests - o.plan.judgeRequests);

test('smoke on the cluster with the PostgreSQL store: requests and records equal to the plan, the run kept in the cluster\'s database', async () => {
  const config = clusterConfig(['think_base'], 4, 4, 4);
  const { runId, started } = await startRun('smoke', config);
  const o = await finish(runId, config, started);
  const row = report('1 smoke', 'none (1 arm, 4 prefixes x 2 samples)', o);
  expect(o.arm.requests).toBe(o.plan.armRequests);
  expect(o.judge.requests).toBe(o.plan.judgeRequests);
  expectCompleteAndUnique(o);
  expect(o.entryRows).toEqual({ thoughts: 8, suffixes: 32, records: 32 });
  // The workflows live in the cluster's own `temporal` database on the same server: the run and its arm child.
  const db = new PgClient({ connectionString: cluster.temporalDbUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ workflow_id: string }>('SELECT workflow_id FROM current_executions WHERE workflow_id = ANY($1::text[]) ORDER BY 1', [[runId, armWorkflowId(runId, 'think_base')]]);
    expect(rows.map((r) => r.workflow_id)).toEqual([runId, armWorkflowId(runId, 'think_base')].sort());
  } finally {
    await db.end();
  }
  // Four services, four processes.
  const pids = (['frontend', 'history', 'matching', 'worker'] as ClusterService[]).map((s) => cluster.pid(s));
  expect(new Set(pids).size).toBe(4);
  expect(readFileSync(`/proc/${cluster.pid('history')}/cmdline`, 'utf8')).toContain('history');
  row.pass();
}, 180_000);

test('the history service SIGKILLed mid-run and started again, then the matching service: nothing lost, nothing twice, extra calls at most those in flight', async () => {
  const config = clusterConfig(['think_base', 'think_phase3'], 8, 2, 3);
  const plan = planOf(config);
  const total = plan.armRequests + plan.records;
  const { runId, started } = await startRun('services', config);
  const downMs = 3000;
  const killAndRestart = async (service: ClusterService, at: number) => {
    await waitFor(`${at} of ${total} entries stored`, async () => (await stored(runId)) >= at);
    const flying = await inFlight(runId);
    const storedAt = await stored(runId);
    const pid = cluster.pid(service);
    await cluster.kill(service);
    await sleep(downMs);
    const t0 = Date.now();
    await cluster.start(service);
    return { flying, storedAt, restartMs: Date.now() - t0, pids: [pid, cluster.pid(service)] };
  };
  const h = await killAndRestart('history', Math.ceil(total * 0.25));
  const m = await killAndRestart('matching', Math.ceil(total * 0.6));
  const o = await finish(runId, config, started);
  const extra = extraCalls(o);
  const caps = config.arms.reduce((n, a) => n + a.maxConcurrency, 0) + config.judge.maxConcurrency;
  const row = report(
    '2 history, then matching SIGKILL',
    `history killed at ${h.storedAt}/${total} stored (${h.flying} in flight), down ${downMs / 1000} s + ${(h.restartMs / 1000).toFixed(1)} s to ready; ` +
      `matching killed at ${m.storedAt}/${total} (${m.flying} in flight), down ${downMs / 1000} s + ${(m.restartMs / 1000).toFixed(1)} s`,
    o,
    `+${extra} calls <= ${h.flying + m.flying} in flight at the kills <= caps ${caps} x 2`,
  );
  // Both kills landed mid-run.
  expect(h.storedAt).toBeLessThan(total);
  expect(m.storedAt).toBeLessThan(total);
  expect(m.storedAt).toBeGreaterThan(h.storedAt);
  expect(extra).toBeGreaterThanOrEqual(0);
  expect(extra).toBeLessThanOrEqual(h.flying + m.flying);
  expect(o.judge.requests - o.plan.judgeRequests).toBeLessThanOrEqual(h.flying + m.flying);
  expectCompleteAndUnique(o);
  // The restarted services are new processes, alive at the end, and the worker process never went down.
  for (const [service, k] of [['history', h], ['matching', m]] as const) {
    expect(k.pids[1]).not.toBe(k.pids[0]);
    expect(() => process.kill(cluster.pid(service), 0)).not.toThrow();
  }
  expect(worker.exited).toBe(false);
  row.pass();
}, 300_000);

test('PostgreSQL restarted mid-run under both Temporal and the store: the run completes, nothing lost, nothing twice', async () => {
  const config = clusterConfig(['think_base', 'think_phase3'], 8, 2, 3);
  const plan = planOf(config);
  const total = plan.armRequests + plan.records;
  const { runId, started } = await startRun('pg-restart', config);
  await waitFor(`${Math.ceil(total * 0.3)} entries stored`, async () => (await stored(runId)) >= Math.ceil(total * 0.3));
  const connections = async () =>
    (await store.query<{ db: string; n: number }>("SELECT datname AS db, count(*)::int AS n FROM pg_stat_activity WHERE datname IN ('temporal', 'temporal_visibility', 'thought_probe') GROUP BY 1 ORDER BY 1")).rows;
  const before = await connections();
  const startTime = async () => (await store.query<{ t: string }>('SELECT pg_postmaster_start_time()::text AS t')).rows[0]!.t;
  const t1 = await startTime();
  const flying = await inFlight(runId);
  const storedAt = await stored(runId);
  await store.end().catch(() => undefined);
  const t0 = Date.now();
  await cluster.restartPostgres();
  const restartMs = Date.now() - t0;
  store = await connectStore();
  // A new server process: every connection of Temporal and of the store was cut.
  expect(await startTime()).not.toBe(t1);
  const o = await finish(runId, config, started);
  const after = await connections();
  const extra = extraCalls(o);
  const row = report(
    '3 PostgreSQL restart',
    `pg_ctl restart -m fast at ${storedAt}/${total} stored (${flying} in flight, ${(restartMs / 1000).toFixed(1)} s), cutting ${before.map((c) => `${c.db} ${c.n}`).join(', ')}`,
    o,
    `+${extra} calls <= ${flying} in flight; connections after: ${after.map((c) => `${c.db} ${c.n}`).join(', ')}`,
  );
  expect(storedAt).toBeLessThan(total);
  // Temporal's services and the store's pools were connected before, and connected again after.
  for (const db of ['temporal', 'thought_probe']) {
    expect(before.find((c) => c.db === db)?.n ?? 0).toBeGreaterThan(0);
    expect(after.find((c) => c.db === db)?.n ?? 0).toBeGreaterThan(0);
  }
  expect(extra).toBeGreaterThanOrEqual(0);
  expect(extra).toBeLessThanOrEqual(flying);
  expectCompleteAndUnique(o);
  row.pass();
}, 300_000);

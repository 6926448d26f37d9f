/**
 * Fault injection, proved by counting. Each scenario runs a real probeRun on a real Temporal dev server against
 * the simulated servers with one kind of fault, then compares with the plan (arms x conditions x prefixes x
 * samples): the requests each model saw (sim.stats()), the lines of samples.jsonl (all present, unique, none
 * lost), invalid judgments, and the append-only store (nothing stored twice). The last scenario SIGKILLs a
 * worker process mid-run and counts the model calls the crash cost.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import type { RunConfig, RunConfigInput } from '../../src/config/schema';
import { startSimServer, type FaultRule, type SimOptions, type SimServer, type SimStats } from '../../src/sim';
import { probeRun } from '../../src/workflows';
import type { ProbeRunResult } from '../../src/workflows/api';
import { auditRun, planOf, storedEntries, type AuditRow, type RunAudit, type RunPlan } from '../helpers/fault-audit';
import { startRecordingProxy, type RecordingProxy } from '../helpers/fault-proxy';
import { killWorkerProcesses, startWorkerProcess } from '../helpers/fault-worker';
import { heldoutRows, simConfig } from '../helpers/configs';
import { bundle, startTemporal, withWorkers as withWorkersOn } from '../helpers/temporal';

const TASK_QUEUE = 'thought-probe';
const rows = heldoutRows();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;

/** One line of the table printed after the suite: what was injected and what was counted. */
type Row = AuditRow & { invalid: number };
const table: Row[] = [];

beforeAll(async () => {
  [env, workflowBundle] = await Promise.all([startTemporal(), bundle()]);
}, 300_000);

afterAll(async () => {
  await killWorkerProcesses();
  await env?.teardown();
  const cols = Object.keys(table[0] ?? {}) as (keyof Row)[];
  if (cols.length) {
    const lines = [cols.join(' | '), cols.map(() => '---').join(' | '), ...table.map((r) => cols.map((c) => String(r[c])).join(' | '))];
    process.stdout.write(`\nfault-injection counts (SIMULATED servers)\n${lines.join('\n')}\n`);
  }
}, 60_000);

/** A config of the suite: every condition, 4 prefixes x 2 samples, judge retries capped at 2 s. */
function faultConfig(url: string, judgeUrl: string, over: Partial<RunConfigInput> & { armNames?: string[] } = {}): RunConfig {
  const { judge, ...rest } = over;
  return simConfig(url, {
    judge: { baseURL: judgeUrl, model: 'qwen-judge', maxConcurrency: 4, maxRetryIntervalSeconds: 2, ...judge },
    ...rest,
  });
}

interface Scenario {
  id: string;
  faults: FaultRule[];
  latencyMs?: number;
  /** Puts a recording proxy between the workers and the judge. */
  proxyJudge?: boolean;
  config: (armUrl: string, judgeUrl: string) => RunConfig;
  /** Runs alongside the workflow, from the moment the faults are set. */
  during?: (sim: SimServer) => Promise<SimStats>;
  /** More options of the simulated server (extra judges). */
  sim?: Partial<SimOptions>;
}

interface Outcome {
  config: RunConfig;
  plan: RunPlan;
  audit: RunAudit;
  result: ProbeRunResult;
  ms: number;
  proxy?: RecordingProxy;
  during?: SimStats;
  /** The simulated server's counters when the run completed. */
  stats: SimStats;
}

const withWorkers = <T>(fn: () => Promise<T>) => withWorkersOn(env, workflowBundle, fn);

/** Runs one probeRun with in-process workers; the faults are set (and their clocks start) just before it starts. */
async function runScenario(s: Scenario): Promise<Outcome> {
  const sim = await startSimServer({ port: 0, rows, latencyMs: s.latencyMs ?? 30, ...s.sim });
  const proxy = s.proxyJudge ? await startRecordingProxy(sim.url) : undefined;
  try {
    const config = s.config(sim.url, proxy?.url ?? sim.url);
    const plan = planOf(config);
    return await withWorkers(async () => {
      sim.resetStats();
      sim.setFaults(s.faults);
      const started = Date.now();
      const during = s.during?.(sim);
      const result = await env.client.workflow.execute(probeRun, { args: [config], workflowId: `faults-${s.id}-${started}`, taskQueue: TASK_QUEUE });
      const ms = Date.now() - started;
      const stats = sim.stats();
      return { config, plan, audit: auditRun(config, plan, result.artifacts.dir, stats), result, ms, proxy, during: await during, stats };
    });
  } finally {
    sim.setFaults([]);
    await proxy?.close();
    await sim.close();
  }
}

/** Adds the scenario's line to the table (status FAIL until `pass()` is called after its assertions). */
function report(scenario: string, injected: string, o: Outcome, extra = '-'): { pass(): void } {
  const { audit: a, plan: p } = o;
  const row: Row = {
    scenario,
    injected,
    arm: `${a.armRequests} / ${p.armRequests} (+${a.armRequests - p.armRequests}; ${a.armErrors} failed at sim)`,
    judge: `${a.judgeRequests} / ${p.judgeRequests} (+${a.judgeRequests - p.judgeRequests}; ${a.judgeErrors} failed at sim)`,
    records: `${a.records} / ${p.records}`,
    duplicates: a.duplicates + a.store.repeatedKeys,
    invalid: a.invalid,
    lost: a.lost,
    extra,
    seconds: (o.ms / 1000).toFixed(1),
    status: 'FAIL',
  };
  table.push(row);
  return { pass: () => void (row.status = 'pass') };
}

/** The claims every scenario makes: complete, one record per planned key, nothing lost or stored twice. */
function expectCompleteAndUnique(o: Outcome, invalid = 0): void {
  const { audit: a, plan: p } = o;
  expect(a.records).toBe(p.records);
  expect(a.duplicates).toBe(0);
  expect(a.unplanned).toBe(0);
  expect(a.lost).toBe(0);
  expect(a.errors).toBe(0);
  expect(a.invalid).toBe(invalid);
  // The append-only store holds each thought, suffix and record once: nothing was generated or judged twice into it.
  expect(a.store).toEqual({ thoughts: p.armRequests - p.judgeRequests, suffixes: p.judgeRequests, records: p.records, repeatedKeys: 0 });
  expect(JSON.parse(readFileSync(o.result.artifacts.summary, 'utf8')).simulated).toBe(true);
}

test('a judge outage with 503s: generation goes on untouched, judging resumes after it, every judgment valid', async () => {
  const outageMs = 6000;
  const o = await runScenario({
    id: '503',
    faults: [{ kind: '503', model: 'qwen-judge', atMs: 0, durationMs: outageMs }],
    config: (url, judgeUrl) => faultConfig(url, judgeUrl),
    // Shortly before the judge comes back: the arm has been generating, the judge has answered nothing.
    during: (sim) => sleep(outageMs - 500).then(() => sim.stats()),
  });
  const r = report('1 judge 503 outage', `503 on qwen-judge, t=0..${outageMs / 1000}s`, o);
  const { audit: a, plan: p } = o;
  const mid = o.during!;
  expect(mid.models['qwen-judge']!.completed).toBe(0);
  expect(mid.models['qwen-judge']!.errors).toBeGreaterThan(0);
  expect(mid.models.think_base!.completed).toBeGreaterThan(0);
  // Generation was never redone: exactly the plan's thoughts and suffixes, none failed.
  expect(a.armRequests).toBe(p.armRequests);
  expect(a.armErrors).toBe(0);
  // Every judge request beyond the plan is a 503 that was retried; each judgment was answered once.
  expect(a.judgeErrors).toBeGreaterThan(0);
  expect(a.judgeRequests).toBe(p.judgeRequests + a.judgeErrors);
  expect(a.judgeCompleted).toBe(p.judgeRequests);
  expect(a.judgeCalls).toBe(p.judgeRequests);
  expect(o.ms).toBeGreaterThanOrEqual(outageMs);
  expectCompleteAndUnique(o);
  r.pass();
}, 90_000);

test('a judge outage with dropped connections: the same counts, over two arms sharing the judge', async () => {
  const outageMs = 5000;
  const o = await runScenario({
    id: 'down',
    // After the judge has answered a few requests, so the outage hits a run in progress.
    faults: [{ kind: 'down', model: 'qwen-judge', afterRequests: 4, atMs: 0, durationMs: outageMs }],
    config: (url, judgeUrl) => faultConfig(url, judgeUrl, { armNames: ['think_base', 'think_phase3'] }),
    during: (sim) => sleep(outageMs - 500).then(() => sim.stats()),
  });
  const r = report('2 judge down (conn. dropped)', `socket destroyed on qwen-judge after 4 requests, until t=${outageMs / 1000}s`, o);
  const { audit: a, plan: p } = o;
  const mid = o.during!;
  expect(mid.models['qwen-judge']!.completed).toBeLessThanOrEqual(4);
  expect(mid.models.think_base!.completed + mid.models.think_phase3!.completed).toBeGreaterThan(0);
  expect(a.armRequests).toBe(p.armRequests);
  expect(a.armErrors).toBe(0);
  expect(a.judgeErrors).toBeGreaterThan(0);
  expect(a.judgeRequests).toBe(p.judgeRequests + a.judgeErrors);
  expect(a.judgeCompleted).toBe(p.judgeRequests);
  expect(a.judgeCalls).toBe(p.judgeRequests);
  expectCompleteAndUnique(o);
  r.pass();
}, 90_000);

test('a second judge down: its judgments wait and resume like the main one\'s, and nothing either judge answered is asked again', async () => {
  const outageMs = 6000;
  const o = await runScenario({
    id: 'judge2',
    sim: { extraJudges: { 'qwen-judge-b': 0.2 } },
    faults: [{ kind: '503', model: 'qwen-judge-b', atMs: 0, durationMs: outageMs }],
    config: (url, judgeUrl) => faultConfig(url, judgeUrl, { judges: [{ name: 'b', baseURL: judgeUrl, model: 'qwen-judge-b', maxConcurrency: 4, maxRetryIntervalSeconds: 2 }] }),
    during: (sim) => sleep(outageMs - 500).then(() => sim.stats()),
  });
  const r = report('2b second judge 503 outage', `503 on qwen-judge-b (judges[0]), t=0..${outageMs / 1000}s`, o);
  const { audit: a, plan: p } = o;
  const mid = o.during!;
  expect(mid.models['qwen-judge-b']!.completed).toBe(0);
  expect(mid.models['qwen-judge-b']!.errors).toBeGreaterThan(0);
  expect(mid.models.think_base!.completed).toBeGreaterThan(0);
  expect(a.armRequests).toBe(p.armRequests);
  expect(a.armErrors).toBe(0);
  // The main judge answered each suffix once: its judgments are stored as they come, so retried batches skip them.
  expect(a.judgeRequests).toBe(p.judgeRequests);
  expect(a.judgeErrors).toBe(0);
  // The second judge: every request beyond the plan is a 503 that was retried; each suffix was answered once.
  const b = o.stats.models['qwen-judge-b']!;
  expect(b.errors).toBeGreaterThan(0);
  expect(b.requests).toBe(p.judgeRequests + b.errors);
  expect(b.completed).toBe(p.judgeRequests);
  const records = readFileSync(o.result.artifacts.samples, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(records.every((x) => x.judges?.b?.judgments?.length === 1 && x.judges.b.reward !== null)).toBe(true);
  expect(o.ms).toBeGreaterThanOrEqual(outageMs);
  expectCompleteAndUnique(o);
  r.pass();
}, 90_000);

/** Two stalled arm requests (stallTimeoutSeconds 2), each abandoned at the stall timeout and asked again. */
function expectTwoStallsRedone(o: Outcome): void {
  const { audit: a, plan: p } = o;
  expect(o.ms).toBeLessThan(30_000);
  // A stalled request must be retried, never kept: no stored thought or suffix took the stall timeout to arrive.
  expect(a.slowGenerations(2000)).toEqual([]);
  // The stalled requests are the only extra arm requests; each planned one was answered once.
  expect(a.armErrors).toBe(2);
  expect(a.armRequests).toBe(p.armRequests + 2);
  expect(a.armCompleted).toBe(p.armRequests);
  expect(a.judgeRequests).toBe(p.judgeRequests);
  expect(a.judgeErrors).toBe(0);
  expectCompleteAndUnique(o);
}

test('a stalled arm stream is abandoned after stallTimeoutSeconds and retried, far before the start-to-close timeout', async () => {
  const o = await runScenario({
    id: 'stall',
    faults: [{ kind: 'stall', model: 'think_base', count: 2 }],
    config: (url, judgeUrl) => faultConfig(url, judgeUrl, { generation: { stallTimeoutSeconds: 2 } }),
  });
  const r = report('3 arm stream stall', 'stall on 2 think_base streams, stallTimeoutSeconds 2', o);
  expectTwoStallsRedone(o);
  r.pass();
}, 90_000);

test('a server that stalls before answering a whole (unstreamed) generation is given up on at stallTimeoutSeconds too', async () => {
  const o = await runScenario({
    id: 'stall-whole',
    faults: [{ kind: 'stall', model: 'think_base', count: 2 }],
    config: (url, judgeUrl) => faultConfig(url, judgeUrl, { generation: { stallTimeoutSeconds: 2, stream: 'never' } }),
  });
  const r = report('3b arm whole-answer stall', 'stall on 2 think_base whole answers (stream: never), stallTimeoutSeconds 2', o);
  expect(o.audit.armStreamed).toBe(0);
  expectTwoStallsRedone(o);
  r.pass();
}, 90_000);

test('a 429 with Retry-After on the judge: the same request is sent again no sooner than Retry-After', async () => {
  const retryAfterSeconds = 3;
  const o = await runScenario({
    id: '429',
    faults: [{ kind: '429', model: 'qwen-judge', count: 1, retryAfterSeconds }],
    proxyJudge: true,
    config: (url, judgeUrl) => faultConfig(url, judgeUrl),
  });
  const { audit: a, plan: p, proxy } = o;
  const log = proxy!.log.filter((e) => e.model === 'qwen-judge');
  const limited = log.filter((e) => e.status === 429);
  expect(limited).toHaveLength(1);
  const retried = log.find((e) => e.bodyHash === limited[0]!.bodyHash && e.at > limited[0]!.at);
  expect(retried).toBeDefined();
  const gapMs = retried!.at - limited[0]!.at;
  const r = report('4 judge 429 + Retry-After', `one 429 on qwen-judge, Retry-After ${retryAfterSeconds}s`, o, `same request resent after ${(gapMs / 1000).toFixed(2)} s`);
  expect(gapMs).toBeGreaterThanOrEqual(retryAfterSeconds * 1000);
  expect(o.ms).toBeGreaterThanOrEqual(retryAfterSeconds * 1000);
  // The retried request is a second copy of one judgment; no other request was repeated.
  expect(log.filter((e) => e.bodyHash === limited[0]!.bodyHash)).toHaveLength(2);
  expect(new Set(log.map((e) => e.bodyHash)).size).toBe(p.judgeRequests);
  expect(a.judgeRequests).toBe(p.judgeRequests + 1);
  expect(a.judgeCompleted).toBe(p.judgeRequests);
  expect(a.armRequests).toBe(p.armRequests);
  expectCompleteAndUnique(o);
  r.pass();
}, 90_000);

test('garbage bodies on arm streams are retried: exactly one extra arm request per garbage body', async () => {
  const o = await runScenario({
    id: 'garbage',
    faults: [{ kind: 'garbage', model: 'think_base', count: 3 }],
    config: (url, judgeUrl) => faultConfig(url, judgeUrl),
  });
  const r = report('5 arm garbage bodies', 'truncated JSON in 3 think_base streams', o);
  const { audit: a, plan: p } = o;
  expect(a.armErrors).toBe(3);
  expect(a.armRequests).toBe(p.armRequests + 3);
  expect(a.armCompleted).toBe(p.armRequests);
  expect(a.judgeRequests).toBe(p.judgeRequests);
  expectCompleteAndUnique(o);
  r.pass();
}, 90_000);

test('an invalid judge answer is asked again (invalidRetries 2): all judgments valid, one extra judge call', async () => {
  const o = await runScenario({
    id: 'invalid-retried',
    faults: [{ kind: 'invalid', model: 'qwen-judge', count: 1 }],
    config: (url, judgeUrl) => faultConfig(url, judgeUrl),
  });
  const r = report('6a invalid judge text, retried', 'one invalid answer, invalidRetries 2 (default)', o);
  const { audit: a, plan: p } = o;
  expect(o.config.judge.invalidRetries).toBe(2);
  expect(a.judgeRequests).toBe(p.judgeRequests + 1);
  // The records account for every judge call, the invalid one included.
  expect(a.judgeCalls).toBe(p.judgeRequests + 1);
  expect(a.armRequests).toBe(p.armRequests);
  expectCompleteAndUnique(o, 0);
  r.pass();
}, 90_000);

test('an invalid judge answer with invalidRetries 0 leaves exactly one record with reward null and judge.valid false', async () => {
  const o = await runScenario({
    id: 'invalid-kept',
    faults: [{ kind: 'invalid', model: 'qwen-judge', count: 1 }],
    config: (url, judgeUrl) => faultConfig(url, judgeUrl, { judge: { baseURL: judgeUrl, invalidRetries: 0 } }),
  });
  const r = report('6b invalid judge text, kept', 'one invalid answer, invalidRetries 0', o);
  const { audit: a, plan: p } = o;
  expect(a.judgeRequests).toBe(p.judgeRequests);
  expect(a.judgeCalls).toBe(p.judgeRequests);
  expect(a.armRequests).toBe(p.armRequests);
  expectCompleteAndUnique(o, 1);
  r.pass();
}, 90_000);

test('a worker process SIGKILLed mid-run: a new worker finishes the run, redoing only the requests in flight', async () => {
  const sim = await startSimServer({ port: 0, rows, latencyMs: 100 });
  try {
    const config = faultConfig(sim.url, sim.url, {
      armNames: ['think_base', 'think_phase3'],
      dataset: { limit: 8 } as never,
    });
    const plan = planOf(config);
    const caps = config.arms.reduce((n, a) => n + a.maxConcurrency, 0) + config.judge.maxConcurrency;
    const first = startWorkerProcess(env.address);
    await first.ready;
    sim.resetStats();
    const started = Date.now();
    const handle = await env.client.workflow.start(probeRun, { args: [config], workflowId: `faults-crash-${started}`, taskQueue: TASK_QUEUE });
    const armOf = (s: SimStats) => config.arms.reduce((n, a) => n + (s.models[a.model]?.requests ?? 0), 0);
    const killAt = Math.ceil(plan.armRequests * 0.4);
    while (armOf(sim.stats()) < killAt) {
      if (Date.now() - started > 60_000) throw new Error(`the run made ${armOf(sim.stats())} of ${killAt} arm requests in 60 s:\n${first.output()}`);
      await sleep(10);
    }
    await first.kill();
    // Let the sim see the dropped connections before counting what the dead worker asked for and what it kept.
    await sleep(300);
    const atKill = sim.stats();
    const requestsAtKill = Object.values(atKill.models).reduce((n, m) => n + m.requests, 0);
    const answeredAtKill = Object.values(atKill.models).reduce((n, m) => n + m.completed, 0);
    const storedAtKill = storedEntries(config, join(config.output.dir, handle.workflowId));
    const second = startWorkerProcess(env.address);
    const result = await handle.result();
    const ms = Date.now() - started;
    const audit = auditRun(config, plan, result.artifacts.dir, sim.stats());
    const o: Outcome = { config, plan, audit, result, ms, stats: sim.stats() };
    const extra = audit.armRequests - plan.armRequests + (audit.judgeRequests - plan.judgeRequests);
    const r = report(
      '7 worker SIGKILL',
      `SIGKILL after ${armOf(atKill)}/${plan.armRequests} arm requests: ${requestsAtKill} requests sent, ${answeredAtKill} answered, ${storedAtKill} stored`,
      o,
      `${extra} (arm +${audit.armRequests - plan.armRequests}, judge +${audit.judgeRequests - plan.judgeRequests}) = ` +
        `${requestsAtKill - answeredAtKill} in flight + ${answeredAtKill - storedAtKill} answered but not stored; caps ${caps}`,
    );
    expect(second.exited).toBe(false);
    // Exactly the requests the dead worker sent but had not stored were asked again: nothing stored was redone.
    expect(extra).toBe(requestsAtKill - storedAtKill);
    expect(extra).toBeLessThanOrEqual(caps);
    expect(audit.judgeCalls).toBe(plan.judgeRequests);
    expectCompleteAndUnique(o);
    r.pass();
  } finally {
    await killWorkerProcesses();
    await sim.close();
  }
}, 170_000);

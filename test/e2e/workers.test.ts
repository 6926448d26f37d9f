/**
 * End to end with two worker PROCESSES (`node bin/thought-probe.js worker`) on one task queue: the per-arm and
 * judge concurrency caps hold across processes, and every planned request is made exactly once.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startSimServer, type SimServer } from '../../src/sim';
import { CONDITIONS } from '../../src/experiment/conditions';
import { planCounts } from '../../src/experiment/plan';
import { resolveConfigFile } from '../../src/config/load';
import { armWorkflowId, type ProbeRunResult } from '../../src/workflows/api';
import { startTemporal } from '../helpers/temporal';
import { heldoutRows, tempDir } from '../helpers/configs';
import { HELDOUT, jsonl, smokeInput, startWorkerProcess, writeConfig, type WorkerProcess } from '../helpers/e2e-cli';

let env: TestWorkflowEnvironment;
let sim: SimServer;
const workers: WorkerProcess[] = [];
let dir: string;

beforeAll(async () => {
  dir = tempDir('tp-e2e-workers-');
  [env, sim] = await Promise.all([startTemporal(), startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 50 })]);
  // Started one after the other: each bundles the workflows, and the machine has two cores.
  for (let i = 0; i < 2; i++) workers.push(await startWorkerProcess(env.address));
}, 300_000);

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.stop()));
  await sim?.close();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('two worker processes run a 2-arm run within the arm and judge caps, with request counts equal to the plan', async () => {
  const arms = ['think_base', 'think_phase3'];
  const prefixes = 6;
  const samples = 2;
  const outDir = `${dir}/out`;
  const file = writeConfig(
    dir,
    smokeInput(sim.url, outDir, {
      name: 'two-workers',
      armNames: arms,
      armConcurrency: 3,
      dataset: { path: HELDOUT, limit: prefixes },
      samplesPerPrefix: samples,
      conditions: [...CONDITIONS],
      judge: { baseURL: sim.url, model: 'qwen-judge', maxConcurrency: 5 },
    }),
  );
  const config = resolveConfigFile(file);
  expect(config.conditions).toHaveLength(4);
  sim.resetStats();

  const result = (await env.client.workflow.execute('probeRun', {
    args: [config],
    workflowId: 'two-workers',
    taskQueue: 'thought-probe',
  })) as ProbeRunResult;

  const plan = planCounts(prefixes, samples, config.conditions);
  expect(plan).toEqual({ thoughts: prefixes * samples, suffixes: prefixes * samples * 4, judgments: prefixes * samples * 4 });
  const stats = sim.stats();
  for (const arm of arms) {
    const s = stats.models[arm]!;
    expect({ arm, peakConcurrent: s.peakConcurrent <= 3, requests: s.requests, errors: s.errors }).toEqual({
      arm,
      peakConcurrent: true,
      requests: plan.thoughts + plan.suffixes,
      errors: 0,
    });
    expect(s.peakConcurrent).toBeGreaterThan(0);
  }
  const judge = stats.models['qwen-judge']!;
  expect(judge.peakConcurrent).toBeLessThanOrEqual(5);
  expect(judge.requests).toBe(arms.length * plan.judgments);
  expect(judge.errors).toBe(0);
  expect(stats.totalRequests).toBe(arms.length * (plan.thoughts + plan.suffixes + plan.judgments));

  const records = jsonl<{ arm: string; condition: string; prefixId: string; sample: number; error: string | null }>(
    readFileSync(result.artifacts.samples, 'utf8'),
  );
  const expected = arms.length * config.conditions.length * prefixes * samples;
  expect(records).toHaveLength(expected);
  expect(new Set(records.map((r) => `${r.arm}|${r.condition}|${r.prefixId}|${r.sample}`)).size).toBe(expected);
  expect(records.filter((r) => r.error !== null)).toEqual([]);

  // Both processes took part: tasks of the run and its arm children were started by both worker identities (pid@host).
  const identities = new Set<string>();
  for (const id of ['two-workers', ...arms.map((arm) => armWorkflowId('two-workers', arm))]) {
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      const identity = e.activityTaskStartedEventAttributes?.identity ?? e.workflowTaskStartedEventAttributes?.identity;
      if (identity) identities.add(identity.split('@')[0]!);
    }
  }
  expect([...identities].sort()).toEqual(workers.map((w) => String(w.child.pid)).sort());
  for (const w of workers) expect(w.child.exitCode).toBeNull();
}, 60_000);

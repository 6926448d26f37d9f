import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundle } from '@temporalio/worker';
import { startSimServer, type SimServer } from '../../src/sim';
import { createWorkers } from '../../src/workers/worker';
import { planCounts } from '../../src/experiment/plan';
import { probeRun } from '../../src/workflows';
import { progressQuery, resumeSignal } from '../../src/workflows/api';
import { bundle, startTemporal } from '../helpers/temporal';
import { heldoutRows, simConfig } from '../helpers/configs';

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;
let sim: SimServer;
let workers: Worker[];
let running: Promise<void>[];

beforeAll(async () => {
  [env, workflowBundle, sim] = await Promise.all([startTemporal(), bundle(), startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 20 })]);
  workers = await createWorkers({ connection: env.nativeConnection, workflowBundle });
  running = workers.map((w) => w.run());
}, 300_000);

afterAll(async () => {
  workers?.forEach((w) => w.shutdown());
  await Promise.all(running ?? []);
  await sim?.close();
  await env?.teardown();
});

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const armRequests = () => sim.stats().models.think_base?.requests ?? 0;

test('a judge outage longer than judge.maxOutageSeconds pauses the run with its work kept; resume completes it without regenerating', async () => {
  sim.resetStats();
  sim.setFaults([{ kind: '503', model: 'qwen-judge' }]);
  const config = simConfig(sim.url, { judge: { baseURL: sim.url, model: 'qwen-judge', maxConcurrency: 4, maxOutageSeconds: 2, maxRetryIntervalSeconds: 1 } });
  const handle = await env.client.workflow.start(probeRun, { args: [config], workflowId: 'pause-1', taskQueue: 'thought-probe' });
  let paused = false;
  for (let i = 0; i < 100 && !paused; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const p = await handle.query(progressQuery);
    paused = Object.values(p.arms).some((a) => a.paused !== null);
    if (paused) expect(p.arms.think_base!.paused!.message).toContain('503');
  }
  expect(paused).toBe(true);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  const armBefore = armRequests();
  sim.setFaults([]);
  await handle.signal(resumeSignal);
  const result = await handle.result();
  const plan = planCounts(4, 2, config.conditions);
  // Every generation was made exactly once, across the pause.
  expect(armRequests()).toBe(plan.thoughts + plan.suffixes);
  expect(armBefore).toBeLessThanOrEqual(plan.thoughts + plan.suffixes);
  const records = lines(result.artifacts.samples);
  expect(records).toHaveLength(plan.judgments);
  expect(records.every((r) => r.judge.valid)).toBe(true);
});

test('a run that failed on a wrong judge model, resumed with the fixed config, reuses every stored generation', async () => {
  sim.resetStats();
  sim.setFaults([]);
  const bad = simConfig(sim.url, { judge: { baseURL: sim.url, model: 'qwen-jugde', maxConcurrency: 4 } });
  await expect(env.client.workflow.execute(probeRun, { args: [bad], workflowId: 'wrong-judge-1', taskQueue: 'thought-probe' })).rejects.toThrow();
  const armAfterFailure = armRequests();
  const fixed = { ...bad, judge: { ...bad.judge, model: 'qwen-judge' } };
  const result = await env.client.workflow.execute(probeRun, {
    args: [fixed, { resumeFrom: ['wrong-judge-1'] }],
    workflowId: 'wrong-judge-1-2',
    taskQueue: 'thought-probe',
  });
  const plan = planCounts(4, 2, bad.conditions);
  // Generations made before the failure were stored and not made again.
  expect(armRequests()).toBe(plan.thoughts + plan.suffixes);
  expect(armAfterFailure).toBeGreaterThan(0);
  const summary = JSON.parse(readFileSync(result.artifacts.summary, 'utf8'));
  expect(summary.runIds).toEqual(['wrong-judge-1', 'wrong-judge-1-2']);
  const records = lines(result.artifacts.samples);
  expect(records).toHaveLength(plan.judgments);
  expect(records.every((r) => r.judge.valid)).toBe(true);
});

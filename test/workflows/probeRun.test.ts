import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { planCounts } from '../../src/experiment/plan';
import { scoreRecord } from '../../src/experiment/metrics';
import { buildSummary } from '../../src/experiment/summary';
import { probeRun } from '../../src/workflows';
import { withServerAndSim, withWorkers } from '../helpers/temporal';
import { heldoutRows, simConfig } from '../helpers/configs';

const t = withServerAndSim();

const run = <T>(fn: () => Promise<T>) => withWorkers(t.env, t.workflowBundle, fn);

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('the smoke run completes with request counts equal to the plan and one record per sample', async () => {
  t.sim.resetStats();
  const config = simConfig(t.sim.url, { conditions: ['normal_model_thought', 'blank_thought', 'generic_thought'] });
  const result = await run(() =>
    t.env.client.workflow.execute(probeRun, { args: [config], workflowId: 'smoke-1', taskQueue: 'thought-probe' }),
  );
  const plan = planCounts(4, 2, config.conditions);
  const stats = t.sim.stats();
  expect(stats.models.think_base!.requests).toBe(plan.thoughts + plan.suffixes);
  expect(stats.models['qwen-judge']!.requests).toBe(plan.judgments);
  const records = lines(result.artifacts.samples);
  expect(records).toHaveLength(plan.judgments);
  expect(new Set(records.map((r) => `${r.arm}/${r.condition}/${r.prefixId}/${r.sample}`)).size).toBe(plan.judgments);
  expect(records.every((r) => r.judge.valid && r.error === null && r.simulated === true)).toBe(true);
  const summary = JSON.parse(readFileSync(result.artifacts.summary, 'utf8'));
  expect(summary.arms.think_base.conditions.normal_model_thought.n).toBe(8);
  expect(summary.configHash).toMatch(/^sha256:/);
  expect(readFileSync(result.artifacts.report, 'utf8')).toContain('## Main Metrics');
  expect(readFileSync(join(result.artifacts.dir, 'config.json'), 'utf8')).toContain('"configHash"');
  // The summary is computed outside the workflow, from the records as samples.jsonl has them: the same numbers,
  // to the last bit, as analysing that file; and the workflow's own result carries the same summary.
  const again = buildSummary(records.map(scoreRecord), { runId: 'smoke-1', armOrder: ['think_base'], seed: config.seed });
  expect(summary.arms).toEqual(again.arms);
  expect(summary.armComparisons).toEqual(again.armComparisons);
  expect(summary.scale).toEqual(again.scale);
  expect(result.summary.arms).toEqual(again.arms);
});

test('a large run summary stays out of the workflow: the arm returns no records and the history holds no bootstrap', async () => {
  const config = simConfig(t.sim.url, { conditions: ['normal_model_thought', 'blank_thought'], dataset: { limit: 12 } as never });
  await run(() => t.env.client.workflow.execute(probeRun, { args: [config], workflowId: 'slim-1', taskQueue: 'thought-probe' }));
  const arm = await t.env.client.workflow.getHandle('slim-1/arm/think_base').result();
  expect(arm.records).toEqual([]);
  expect(arm.errors).toEqual([]);
  // The run's history schedules writeArtifacts without a summary, with the swaps as indexes.
  const history = await t.env.client.workflow.getHandle('slim-1').fetchHistory();
  const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'writeArtifacts');
  expect(scheduled).toHaveLength(1);
  const payload = JSON.parse(Buffer.from(scheduled[0]!.activityTaskScheduledEventAttributes!.input!.payloads![0]!.data!).toString('utf8'));
  expect(payload.summary).toBeUndefined();
  expect(Object.keys(payload)).toEqual(expect.arrayContaining(['storeDir', 'runId', 'swapIndexes', 'errors']));
});

test('concurrent requests never exceed the arm and judge caps, with judge capacity shared over arms', async () => {
  t.sim.resetStats();
  const config = simConfig(t.sim.url, {
    armNames: ['think_base', 'think_phase3'],
    dataset: { limit: 6 } as never,
    arms: ['think_base', 'think_phase3'].map((name) => ({ name, baseURL: t.sim.url, model: name, maxConcurrency: 3 })),
    judge: { baseURL: t.sim.url, model: 'qwen-judge', maxConcurrency: 5 },
  });
  await run(() => t.env.client.workflow.execute(probeRun, { args: [config], workflowId: 'caps-1', taskQueue: 'thought-probe' }));
  const stats = t.sim.stats();
  expect(stats.models.think_base!.peakConcurrent).toBeLessThanOrEqual(3);
  expect(stats.models.think_phase3!.peakConcurrent).toBeLessThanOrEqual(3);
  expect(stats.models['qwen-judge']!.peakConcurrent).toBeLessThanOrEqual(5);
  const plan = planCounts(6, 2, config.conditions);
  expect(stats.models['qwen-judge']!.requests).toBe(2 * plan.judgments);
});

test('a wrong judge model name fails the run within seconds, naming the endpoint and the model', async () => {
  const config = simConfig(t.sim.url, { judge: { baseURL: t.sim.url, model: 'qwen-jugde' } });
  const started = Date.now();
  const err = await run(() =>
    t.env.client.workflow.execute(probeRun, { args: [config], workflowId: 'bad-judge-1', taskQueue: 'thought-probe' }).then(
      () => undefined,
      (e: unknown) => e,
    ),
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const text = JSON.stringify(err, Object.getOwnPropertyNames(err)) + String((err as Error & { cause?: Error }).cause?.message);
  let message = '';
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) message += ` ${(e as Error).message}`;
  expect(message).toContain('qwen-jugde');
  expect(message).toContain(t.sim.url);
  expect(message).toContain('404');
  expect(text.length).toBeGreaterThan(0);
  expect(Date.now() - started).toBeLessThan(20_000);
});

test('a 400 on one sample is recorded as that sample\'s error and the run completes', async () => {
  const rows = heldoutRows().slice(0, 4);
  const needle = rows[1]!.prefix.trimEnd() + ' <think></think>';
  t.sim.setFaults([{ kind: '400', model: 'think_base', match: needle }]);
  try {
    const config = simConfig(t.sim.url, { conditions: ['normal_model_thought', 'blank_thought'] });
    const result = await run(() => t.env.client.workflow.execute(probeRun, { args: [config], workflowId: 'bad-request-1', taskQueue: 'thought-probe' }));
    const records = lines(result.artifacts.samples);
    const failed = records.filter((r) => r.error !== null);
    expect(failed.map((r) => `${r.condition}/${r.prefixId}`).sort()).toEqual([`blank_thought/${rows[1]!.id}`, `blank_thought/${rows[1]!.id}`]);
    expect(failed[0].error).toContain('400');
    expect(failed.every((r) => r.reward === null)).toBe(true);
    expect(records).toHaveLength(16);
  } finally {
    t.sim.setFaults([]);
  }
});

test("judge.taskQueue routes the judge's activities to the workers beside the judge", async () => {
  const config = simConfig(t.sim.url, { conditions: ['normal_model_thought', 'blank_thought'], judge: { baseURL: t.sim.url, model: 'qwen-judge', maxConcurrency: 4, taskQueue: 'judge-host' } });
  const result = await withWorkers(
    t.env,
    t.workflowBundle,
    () => t.env.client.workflow.execute(probeRun, { args: [config], workflowId: 'judge-queue-1', taskQueue: 'thought-probe' }),
    { taskQueues: ['judge-host'] },
  );
  expect(lines(result.artifacts.samples)).toHaveLength(16);
  const history = await t.env.client.workflow.getHandle('judge-queue-1/arm/think_base').fetchHistory();
  const queues = new Map<string, Set<string>>();
  for (const e of history.events ?? []) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a) queues.set(a.activityType!.name!, (queues.get(a.activityType!.name!) ?? new Set()).add(a.taskQueue!.name!));
  }
  expect([...queues.get('judge')!]).toEqual(['judge-host']);
  expect([...queues.get('generate')!]).toEqual(['thought-probe']);
});

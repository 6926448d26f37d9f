import { readFileSync } from 'node:fs';
import { startSimServer, type SimServer } from '../../src/sim';
import { cohenKappa } from '../../src/experiment/agreement';
import { planCounts } from '../../src/experiment/plan';
import { probeRun } from '../../src/workflows';
import { bundle, startTemporal, withWorkers } from '../helpers/temporal';
import { heldoutRows, simConfig, tempDir } from '../helpers/configs';
import { runCli } from '../helpers/e2e-cli';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;
let sim: SimServer;

beforeAll(async () => {
  [env, workflowBundle, sim] = await Promise.all([
    startTemporal(),
    bundle(),
    // A second judge that gives the opposite score to one suffix in three.
    startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 10, extraJudges: { 'qwen-judge-b': 0.3 } }),
  ]);
}, 300_000);

afterAll(async () => {
  await sim?.close();
  await env?.teardown();
}, 60_000);

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('judge.repeats 3 and a second judge: each suffix judged three times by the judge and once by the other, counted per endpoint', async () => {
  sim.resetStats();
  const config = simConfig(sim.url, {
    conditions: ['normal_model_thought', 'blank_thought', 'same_arm_swapped_thought'],
    dataset: { limit: 6 } as never,
    judge: { baseURL: sim.url, model: 'qwen-judge', maxConcurrency: 4, repeats: 3 },
    judges: [{ name: 'strict', baseURL: sim.url, model: 'qwen-judge-b', maxConcurrency: 2 }],
  });
  const result = await withWorkers(env, workflowBundle, () => env.client.workflow.execute(probeRun, { args: [config], workflowId: 'judges-1', taskQueue: 'thought-probe' }));
  const plan = planCounts(6, 2, config.conditions);
  const stats = sim.stats();
  expect(stats.models.think_base!.requests).toBe(plan.thoughts + plan.suffixes);
  expect(stats.models['qwen-judge']!.requests).toBe(3 * plan.judgments);
  expect(stats.models['qwen-judge-b']!.requests).toBe(plan.judgments);
  expect(stats.models['qwen-judge-b']!.peakConcurrent).toBeLessThanOrEqual(2);

  const records = lines(result.artifacts.samples);
  expect(records).toHaveLength(plan.judgments);
  for (const r of records) {
    expect(r.judgments).toHaveLength(3);
    const ones = r.judgments.filter((j: { score: number }) => j.score === 1).length;
    expect(r.reward).toBe(ones >= 2 ? 1 : 0);
    expect(r.judge.attempts).toBe(3);
    expect(r.judges.strict.judgments).toHaveLength(1);
    expect(r.judges.strict.reward).toBe(r.judges.strict.judgments[0].score);
  }
  // Seeds differ per repeat, and the simulated judge draws its answer from the seed: the repeats are not copies.
  const summary = JSON.parse(readFileSync(result.artifacts.summary, 'utf8'));
  const agreement = summary.judgeAgreement;
  expect(Object.keys(agreement.repeats.think_base)).toEqual(['normal_model_thought', 'blank_thought', 'same_arm_swapped_thought']);
  const pair = agreement.judges.pairs[0];
  expect(pair).toMatchObject({ judgeA: 'judge', judgeB: 'strict', suffixes: plan.judgments });
  expect(pair.cohenKappa).toBeCloseTo(cohenKappa(records.map((r) => [r.reward, r.judges.strict.reward]))!, 12);
  // A judge that flips one score in three does not agree with the main one on every suffix.
  expect(pair.agreement).toBeLessThan(1);
  expect(Object.keys(agreement.judges.sensitivity.think_base.blank_thought)).toEqual(['judge', 'strict']);
  const md = readFileSync(result.artifacts.report, 'utf8');
  expect(md).toContain('## Judge agreement');
  expect(md).toContain("| Arm | Condition | Suffixes | Unanimous | Fleiss' kappa | Suffixes with every judgment valid |");
  expect(md).toContain('| `judge` | `strict` | 24 |'.replace('24', String(plan.judgments)));
  // `analyze` of samples.jsonl finds the same agreement from the judgments the records carry.
  const out = tempDir('tp-judges-analyze-');
  const analyzed = await runCli(['analyze', '--samples', result.artifacts.samples, '--out', out]);
  expect(analyzed.status).toBe(0);
  expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).judgeAgreement).toEqual(agreement);
});

import { readFileSync } from 'node:fs';
import { planCounts } from '../../src/experiment/plan';
import { armConditionEntries, fillerThought, shuffleSeed, shuffleThought, truncateThought } from '../../src/experiment/interventions';
import { wordCount } from '../../src/experiment/words';
import { probeRun } from '../../src/workflows';
import { bundle, startTemporal, withWorkers } from '../helpers/temporal';
import { heldoutRows, simConfig } from '../helpers/configs';
import { startSimServer, type SimServer } from '../../src/sim';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { runCli } from '../helpers/e2e-cli';
import { scoreRecord } from '../../src/experiment/metrics';
import { powerTable } from '../../src/experiment/power';

// The simulated server also serves a paraphrasing model and a second judge that flips one score in five.
const t = {} as { env: TestWorkflowEnvironment; workflowBundle: WorkflowBundle; sim: SimServer };
beforeAll(async () => {
  [t.env, t.workflowBundle, t.sim] = await Promise.all([
    startTemporal(),
    bundle(),
    startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 10, paraphraseModel: 'paraphraser', extraJudges: { 'qwen-judge-b': 0.2 } }),
  ]);
}, 300_000);
afterAll(async () => {
  await t.sim?.close();
  await t.env?.teardown();
}, 60_000);

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

const ARMS = ['think_base', 'think_phase3'];
const CONDITIONS = [
  'normal_model_thought',
  'blank_thought',
  { name: 'truncated_25', intervention: 'truncated_thought', keep: 0.25 },
  { name: 'truncated_50', intervention: 'truncated_thought', keep: 0.5 },
  { name: 'filler', intervention: 'filler_thought' },
  { name: 'shuffled', intervention: 'shuffled_thought' },
  { name: 'from_phase3', intervention: 'cross_arm_thought', fromArm: 'think_phase3' },
  { name: 'paraphrased', intervention: 'paraphrased_thought', paraphraser: { baseURL: 'SIM', model: 'paraphraser', maxConcurrency: 4 } },
] as const;

test('every intervention on two arms, judge.repeats 3 and a second judge: requests per endpoint equal the plan, thoughts derived from the stored own thought', async () => {
  t.sim.resetStats();
  const conditions = JSON.parse(JSON.stringify(CONDITIONS).replace('"SIM"', JSON.stringify(t.sim.url)));
  const config = simConfig(t.sim.url, {
    armNames: ARMS,
    conditions,
    judge: { baseURL: t.sim.url, model: 'qwen-judge', maxConcurrency: 6, repeats: 3 },
    judges: [{ name: 'second', baseURL: t.sim.url, model: 'qwen-judge-b', maxConcurrency: 3 }],
  });
  const result = await withWorkers(t.env, t.workflowBundle, () =>
    t.env.client.workflow.execute(probeRun, { args: [config], workflowId: 'interventions-1', taskQueue: 'thought-probe' }),
  );
  const stats = t.sim.stats();
  const plans = Object.fromEntries(ARMS.map((a) => [a, planCounts(4, 2, armConditionEntries(config.conditions, a))]));
  // The transplant is not run on the arm it takes thoughts from: 8 conditions on think_base, 7 on think_phase3.
  expect(plans.think_base).toEqual({ thoughts: 8, suffixes: 64, judgments: 64 });
  expect(plans.think_phase3).toEqual({ thoughts: 8, suffixes: 56, judgments: 56 });
  for (const a of ARMS) expect(stats.models[a]!.requests).toBe(plans[a]!.thoughts + plans[a]!.suffixes);
  const judged = plans.think_base!.judgments + plans.think_phase3!.judgments;
  // Three judgments per suffix by the main judge, one by the second; one paraphrase per own thought of each arm.
  expect(stats.models['qwen-judge']!.requests).toBe(3 * judged);
  expect(stats.models['qwen-judge-b']!.requests).toBe(judged);
  expect(stats.models.paraphraser!.requests).toBe(plans.think_base!.thoughts + plans.think_phase3!.thoughts);
  expect(stats.models.paraphraser!.peakConcurrent).toBeLessThanOrEqual(4);
  expect(stats.models['qwen-judge-b']!.peakConcurrent).toBeLessThanOrEqual(3);

  const records = lines(result.artifacts.samples);
  expect(records).toHaveLength(judged);
  expect(records.every((r) => r.error === null && r.judge.valid && r.judgments.length === 3 && r.judges.second.judgments.length === 1)).toBe(true);
  const at = (arm: string, condition: string, prefixId: string, sample: number) =>
    records.find((r) => r.arm === arm && r.condition === condition && r.prefixId === prefixId && r.sample === sample)!;
  for (const own of records.filter((r) => r.condition === 'normal_model_thought')) {
    const slot = (c: string) => at(own.arm, c, own.prefixId, own.sample);
    expect(wordCount(own.thought)).toBeGreaterThan(4);
    expect(slot('truncated_25').thought).toBe(truncateThought(own.thought, 0.25));
    expect(slot('truncated_50').thought).toBe(truncateThought(own.thought, 0.5));
    expect(wordCount(slot('truncated_50').thought)).toBe(Math.floor(wordCount(own.thought) / 2));
    expect(slot('filler').thought).toBe(fillerThought(own.thought));
    expect(slot('shuffled').thought).toBe(shuffleThought(own.thought, shuffleSeed(config.seed, own.arm, own.prefixIndex, own.sample)));
    expect(slot('shuffled').thought.split(' ').sort()).toEqual(own.thought.split(/\s+/).sort());
    // The paraphrase keeps the words' content (the simulated paraphraser drops or swaps about one word in ten).
    const para = slot('paraphrased');
    expect(para.thought).not.toBe(own.thought);
    expect(para.thought.split(' ').filter((w: string) => own.thought.split(/\s+/).includes(w)).length).toBeGreaterThan(wordCount(own.thought) * 0.7);
    for (const [c, kind] of [['truncated_25', 'truncated_thought'], ['filler', 'filler_thought'], ['shuffled', 'shuffled_thought'], ['paraphrased', 'paraphrased_thought']]) {
      expect(slot(c!).intervention).toBe(kind);
      expect(slot(c!).thoughtSource).toBeNull();
    }
    if (own.arm === 'think_phase3') {
      // The transplant on think_base for this slot carries this thought, and says where it came from.
      const moved = at('think_base', 'from_phase3', own.prefixId, own.sample);
      expect(moved.thought).toBe(own.thought);
      expect(moved.intervention).toBe('cross_arm_thought');
      expect(moved.thoughtSource).toEqual({ arm: 'think_phase3', prefixId: own.prefixId, sample: own.sample });
      expect(records.some((r) => r.arm === 'think_phase3' && r.condition === 'from_phase3')).toBe(false);
    }
  }
  // The note's conditions carry no intervention field: their records are what they always were.
  expect(records.filter((r) => r.condition === 'normal_model_thought' || r.condition === 'blank_thought').every((r) => !('intervention' in r))).toBe(true);

  const summary = JSON.parse(readFileSync(result.artifacts.summary, 'utf8'));
  expect(Object.keys(summary.arms.think_base.sensitivity)).toEqual(['blank_thought', 'truncated_25', 'truncated_50', 'filler', 'shuffled', 'from_phase3', 'paraphrased']);
  expect(Object.keys(summary.arms.think_phase3.sensitivity)).toEqual(['blank_thought', 'truncated_25', 'truncated_50', 'filler', 'shuffled', 'paraphrased']);
  expect(summary.judgeAgreement.judges.names).toEqual(['judge', 'second']);
  expect(Object.keys(summary.judgeAgreement.repeats.think_base)).toHaveLength(8);
  expect(summary.interventions.truncated_50).toEqual({ intervention: 'truncated_thought', keep: 0.5 });
  const md = readFileSync(result.artifacts.report, 'utf8');
  // The note's sensitivity table keeps its columns; the interventions have a table of their own.
  expect(md).toContain('| Arm | Normal - blank |\n');
  expect(md).toContain('## Interventions');
  expect(md).toMatch(/\| `think_base` \| `truncated_50` \| `truncated_thought keep=0.5` \| /);
  expect(md).toMatch(/\| `think_base` \| `from_phase3` \| `cross_arm_thought fromArm=think_phase3` \| /);
  expect(md).toContain('its own thought beats `shuffled`');
  expect(md).toContain('## Judge agreement');
  const html = readFileSync(result.artifacts.html, 'utf8');
  expect(html).toContain('data-chart="truncation"');

  // `thought-probe power --run` reads the run's records from its store: the same numbers as from samples.jsonl.
  const power = await runCli(['power', '--run', 'interventions-1', '--json'], { address: t.env.address });
  expect(power.stderr).toBe('');
  expect(JSON.parse(power.stdout)).toEqual(powerTable(records.map(scoreRecord)));
});

/**
 * An arm larger than one chunk continues as new after each chunk of prefixes. Its records must be exactly those of
 * the same run in one execution (swapped thoughts cross chunk borders), with the planned model calls and no more,
 * every execution of the chain must replay, and each one's history must be smaller than the single execution's.
 */
import { readFileSync } from 'node:fs';
import type { temporal } from '@temporalio/proto';
import { planCounts } from '../../src/experiment/plan';
import { historyFileName, workflowIdFromFileName } from '../../src/replay/files';
import { fetchExecutions, replayHistories, renderReplayOutcome } from '../../src/replay/replay';
import { probeRun } from '../../src/workflows';
import { withServerAndSim, withWorkers } from '../helpers/temporal';
import { simConfig } from '../helpers/configs';

const t = withServerAndSim(5);

const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/** The fields of a record that the science depends on. */
const essence = (r: Record<string, unknown>) => {
  const { arm, condition, prefixId, sample, reward, thought, suffix, thoughtSource, thoughtWords, suffixWords } = r as Record<string, unknown>;
  return JSON.stringify({ arm, condition, prefixId, sample, reward, thought, suffix, thoughtSource, thoughtWords, suffixWords });
};

test('an arm run in chunks of 3 prefixes gives the records of one execution, with the planned calls, and replays', async () => {
  const arms = ['think_base', 'think_phase3'];
  const base = { armNames: arms, dataset: { limit: 10 } as never };
  t.sim.resetStats();
  const whole = await withWorkers(t.env, t.workflowBundle, () =>
    t.env.client.workflow.execute(probeRun, { args: [simConfig(t.sim.url, base)], workflowId: 'whole-1', taskQueue: 'thought-probe' }),
  );
  const wholeStats = t.sim.stats();
  t.sim.resetStats();
  const config = simConfig(t.sim.url, { ...base, batching: { prefixesPerChunk: 3 } as never });
  expect(config.conditions).toContain('same_arm_swapped_thought');
  const chunked = await withWorkers(t.env, t.workflowBundle, () =>
    t.env.client.workflow.execute(probeRun, { args: [config], workflowId: 'chunks-1', taskQueue: 'thought-probe' }),
  );
  const stats = t.sim.stats();

  // Every planned request once: a thought that a swapped slot needs from a later chunk is made once, then read.
  const plan = planCounts(10, 2, config.conditions);
  for (const arm of arms) expect(stats.models[arm]!.requests).toBe(plan.thoughts + plan.suffixes);
  expect(stats.models['qwen-judge']!.requests).toBe(arms.length * plan.judgments);
  expect(wholeStats.models['qwen-judge']!.requests).toBe(arms.length * plan.judgments);

  const a = lines(whole.artifacts.samples).map(essence).sort();
  const b = lines(chunked.artifacts.samples).map(essence).sort();
  expect(b).toHaveLength(arms.length * plan.judgments);
  expect(b).toEqual(a);
  // Swapped slots whose donor sits in another chunk are among them.
  const swapped = lines(chunked.artifacts.samples).filter((r) => r.condition === 'same_arm_swapped_thought');
  const pos = new Map(lines(chunked.artifacts.samples).map((r) => [r.prefixId, 0]));
  [...pos.keys()].forEach((id, i) => pos.set(id, i));
  expect(swapped.some((r) => Math.floor(pos.get(r.prefixId)! / 3) !== Math.floor(pos.get(r.thoughtSource.prefixId)! / 3))).toBe(true);
  expect(chunked.summary.arms).toEqual(whole.summary.arms);

  for (const arm of arms) {
    const executions = await fetchExecutions(t.env.client, `chunks-1/arm/${arm}`);
    expect(await fetchExecutions(t.env.client, `whole-1/arm/${arm}`)).toHaveLength(1);
    // 10 prefixes in chunks of 3: four executions, the first three continued as new.
    expect(executions).toHaveLength(4);
    // Each execution schedules its own chunk's suffixes and judgments, and thoughts only of its chunk or of the
    // donors its swapped slots need: what a history holds depends on the chunk, not on the run.
    const payload = (p: temporal.api.common.v1.IPayloads | null | undefined) => JSON.parse(Buffer.from(p!.payloads![0]!.data!).toString('utf8'));
    const input = payload(executions[0]!.events![0]!.workflowExecutionStartedEventAttributes!.input);
    const swap: number[] = input.swap;
    executions.forEach((h, c) => {
      const own = (i: number) => Math.floor(i / 3) === c;
      const items = h.events!.flatMap((e) => {
        const a = e.activityTaskScheduledEventAttributes;
        return a ? (payload(a.input).items as { stage: string; prefixIndex: number }[]) : [];
      });
      expect(items.length).toBeGreaterThan(0);
      for (const it of items) {
        if (it.stage === 'thought') expect(own(it.prefixIndex) || swap.some((d, i) => d === it.prefixIndex && own(i))).toBe(true);
        else expect(own(it.prefixIndex)).toBe(true);
      }
    });
    const outcomes = await replayHistories(
      executions.map((history, i) => ({ workflowId: `chunks-1/arm/${arm}`, source: `execution ${i + 1}`, history })),
      { workflowBundle: t.workflowBundle },
    );
    expect(outcomes.map(renderReplayOutcome)).toEqual(executions.map(() => `OK chunks-1/arm/${arm}`));
  }
  // The run's progress adds the chunks up.
  const progress = await withWorkers(t.env, t.workflowBundle, () => t.env.client.workflow.getHandle('chunks-1').query<{ arms: Record<string, { judge: { done: number; total: number } }> }>('progress'));
  for (const arm of arms) expect(progress.arms[arm]!.judge).toEqual({ done: plan.judgments, total: plan.judgments });
});

test('later executions of a chunked arm get their own history file names, which still name the workflow id', () => {
  expect(historyFileName('r1/arm/think_base')).toBe('r1__arm__think_base.json');
  expect(historyFileName('r1/arm/think_base', 3)).toBe('r1__arm__think_base~3.json');
  expect(workflowIdFromFileName('r1__arm__think_base~3.json')).toBe('r1/arm/think_base');
  expect(workflowIdFromFileName(historyFileName('a~b/arm/c', 2))).toBe('a~b/arm/c');
});

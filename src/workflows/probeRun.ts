import {
  ApplicationFailure,
  ParentClosePolicy,
  patched,
  executeChild,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, SampleError } from '../activities';
import type { RunConfig } from '../config/schema';
import { parseRunConfig, selectRows } from '../config/validate';
import { ConfigError } from '../config/errors';
import { CONDITIONS } from '../experiment/conditions';
import { seededDerangement } from '../experiment/derangement';
import { hash32 } from '../experiment/rng';
import type { ScoredRecord } from '../experiment/metrics';
import { buildSummary } from '../experiment/summary';
import {
  armWorkflowId,
  armProgressSignal,
  judgeGrantSignal,
  judgeLendSignal,
  judgeSlotsSignal,
  progressQuery,
  resumeSignal,
  stopSignal,
  type ProbeRunOptions,
  type ProbeArmResult,
  type ProbeRunResult,
  type RunProgress,
} from './api';
import { storeOptions } from './options';
import { probeArm } from './probeArm';

const { prepareRun, writeArtifacts } = proxyActivities<Activities>(storeOptions);


/** Splits the judge's slots over arms as evenly as possible, each arm getting at least one. */
export function splitSlots(total: number, arms: number): number[] {
  return Array.from({ length: arms }, (_, i) => Math.max(1, Math.floor(total / arms) + (i < total % arms ? 1 : 0)));
}

function validate(input: unknown): RunConfig {
  try {
    return parseRunConfig(input, 'probeRun input');
  } catch (e) {
    if (e instanceof ConfigError) throw ApplicationFailure.nonRetryable(e.message, 'InvalidConfig', e.problems);
    throw e;
  }
}

/**
 * A probe run: validates the resolved config, starts one probeArm child per arm, shares the judge's slots
 * among them, then computes the summary and has the artifacts written. The run id is this workflow's id.
 */
export async function probeRun(input: unknown, options: ProbeRunOptions = {}): Promise<ProbeRunResult> {
  const config = validate(input);
  const runId = workflowInfo().workflowId;
  const storeDir = `${config.output.dir.replace(/\/+$/, '')}/${runId}`;
  const rows = selectRows(config);
  const startedAt = new Date(Date.now()).toISOString();
  const progress: RunProgress = { runId, name: config.name, phase: 'preparing', startedAt, arms: {} };
  for (const arm of config.arms) {
    progress.arms[arm.name] = {
      status: 'pending', updatedAt: null, lastError: null, paused: null, rewards: {}, judgmentsWaiting: 0, errors: 0, inFlight: { arm: 0, judge: 0 },
      thought: { done: 0, total: 0 }, suffix: { done: 0, total: 0 }, judge: { done: 0, total: 0 },
    };
  }
  setHandler(progressQuery, () => progress);
  setHandler(armProgressSignal, (arm, p) => {
    const a = progress.arms[arm];
    if (a) Object.assign(a, p, { updatedAt: new Date(Date.now()).toISOString() });
  });
  upsertMemo({ name: config.name, ...(options.resumeFrom?.length ? { resumeFrom: options.resumeFrom.join(',') } : {}) });
  const running = new Set(config.arms.map((a) => a.name));
  setHandler(resumeSignal, () => {
    for (const a of Object.values(progress.arms)) a.paused = null;
    for (const arm of running) void getExternalWorkflowHandle(armWorkflowId(runId, arm)).signal(resumeSignal).catch(() => undefined);
  });

  const runConfig = { ...config, dataset: { ...config.dataset, rows, limit: rows.length, shuffle: false } };
  await prepareRun({
    storeDir,
    runId,
    config: runConfig,
    resumeFrom: (options.resumeFrom ?? []).map((id) => ({ runId: id, storeDir: `${config.output.dir.replace(/\/+$/, '')}/${id}` })),
  });

  const prefixes = rows.map((r, index) => ({ id: r.id, index, ...(r.sourceId ? { sourceId: r.sourceId } : {}) }));
  const needsSwap = config.conditions.includes('same_arm_swapped_thought');
  const swaps: Record<string, number[] | null> = {};
  for (const arm of config.arms) {
    swaps[arm.name] = needsSwap
      ? seededDerangement(rows.length, {
          seed: hash32(`${config.seed}|swap|${arm.name}`),
          ...(config.dataset.avoidSameSource ? { sourceIds: rows.map((r) => r.sourceId) } : {}),
        })
      : null;
  }

  const slots = splitSlots(config.judge.maxConcurrency, config.arms.length);
  const mySlots = new Map(config.arms.map((a, i) => [a.name, slots[i]!]));
  // Judge lending (newer runs): arms give back judge slots they cannot use and ask for more when judgments
  // wait; the run keeps the free ones and grants them. Counts move as deltas, so the sum of what the arms hold
  // never exceeds judge.maxConcurrency, whatever order the signals arrive in.
  const lending = patched('judge-lending-v1');
  let freeJudgeSlots = 0;
  const demands = new Map<string, number>();
  const grantJudgeSlots = () => {
    for (const [arm, want] of [...demands]) {
      if (freeJudgeSlots <= 0) return;
      demands.delete(arm);
      if (!running.has(arm)) continue;
      const g = Math.min(freeJudgeSlots, want);
      freeJudgeSlots -= g;
      mySlots.set(arm, mySlots.get(arm)! + g);
      void getExternalWorkflowHandle(armWorkflowId(runId, arm)).signal(judgeGrantSignal, g).catch(() => undefined);
    }
  };
  setHandler(judgeLendSignal, (arm, delta) => {
    // A message from an arm that has already finished was counted when it finished.
    if (!lending || !running.has(arm)) return;
    if (delta < 0) {
      const n = Math.min(-delta, mySlots.get(arm) ?? 0);
      mySlots.set(arm, mySlots.get(arm)! - n);
      freeJudgeSlots += n;
    } else {
      demands.set(arm, delta);
    }
    grantJudgeSlots();
  });
  progress.phase = 'running';
  const results: ProbeArmResult[] = [];
  let firstFailure: unknown;
  const settled = await Promise.allSettled(
    config.arms.map(async (arm) => {
      progress.arms[arm.name]!.status = 'running';
      try {
        const r = await executeChild(probeArm, {
          workflowId: armWorkflowId(runId, arm.name),
          parentClosePolicy: ParentClosePolicy.TERMINATE,
          args: [
            {
              runId, parentWorkflowId: runId, storeDir, arm: arm.name, armTaskQueue: arm.taskQueue,
              judgeTaskQueue: workflowInfo().taskQueue, armSlots: arm.maxConcurrency, judgeSlots: mySlots.get(arm.name)!,
              prefixes, samples: config.samplesPerPrefix, conditions: config.conditions, swap: swaps[arm.name]!,
              maxRequestsPerActivity: config.batching.maxRequestsPerActivity,
              armMaxRetryIntervalSeconds: arm.maxRetryIntervalSeconds,
              judgeMaxRetryIntervalSeconds: config.judge.maxRetryIntervalSeconds,
            },
          ],
        });
        results.push(r);
        progress.arms[arm.name]!.status = 'completed';
      } catch (err) {
        const a = progress.arms[arm.name]!;
        a.status = 'failed';
        a.lastError = { message: String((err as Error)?.cause ? ((err as Error).cause as Error).message : (err as Error).message), at: new Date(Date.now()).toISOString() };
        progress.phase = 'failed';
        running.delete(arm.name);
        if (firstFailure === undefined) {
          firstFailure = err;
          // The other arms finish what they have in flight (so a resumed run reuses it), then stop.
          for (const other of running) {
            void getExternalWorkflowHandle(armWorkflowId(runId, other)).signal(stopSignal, `arm ${arm.name} failed`).catch(() => undefined);
          }
        }
        throw err;
      }
      // The judge slots this arm held go to the arms still running.
      running.delete(arm.name);
      const freed = mySlots.get(arm.name)!;
      mySlots.set(arm.name, 0);
      if (lending) {
        freeJudgeSlots += freed;
        grantJudgeSlots();
        return;
      }
      const others = config.arms.filter((a) => running.has(a.name));
      const extra = splitSlots(freed, others.length || 1);
      await Promise.all(
        others.map((o, i) => {
          const next = mySlots.get(o.name)! + (freed >= others.length || i < freed ? extra[i]! : 0);
          mySlots.set(o.name, next);
          return getExternalWorkflowHandle(armWorkflowId(runId, o.name)).signal(judgeSlotsSignal, next).catch(() => undefined);
        }),
      );
    }),
  );
  if (firstFailure !== undefined) throw firstFailure;
  void settled;

  progress.phase = 'writing';
  const scored: ScoredRecord[] = [];
  const errors: SampleError[] = [];
  const byArm = new Map(results.map((r) => [r.arm, r]));
  for (const arm of config.arms) {
    const r = byArm.get(arm.name)!;
    for (const [prefixIndex, sample, ci, reward, thoughtWords, suffixWords] of r.records) {
      scored.push({ arm: arm.name, condition: CONDITIONS[ci]!, prefixId: rows[prefixIndex]!.id, sample, reward: reward < 0 ? null : (reward as 0 | 1), thoughtWords, suffixWords });
    }
    for (const e of r.errors) {
      errors.push(e);
      scored.push({ arm: arm.name, condition: e.condition, prefixId: rows[e.prefixIndex]!.id, sample: e.sample, reward: null, thoughtWords: 0, suffixWords: 0 });
    }
  }
  const summary = buildSummary(scored, { runId, armOrder: config.arms.map((a) => a.name), seed: config.seed });
  const swapOut: Record<string, { prefixId: string; thoughtFrom: string }[]> = {};
  for (const [arm, sw] of Object.entries(swaps)) {
    if (sw) swapOut[arm] = sw.map((from, i) => ({ prefixId: rows[i]!.id, thoughtFrom: rows[from]!.id }));
  }
  const written = await writeArtifacts({ storeDir, runId, summary, swaps: swapOut, errors });
  progress.phase = 'completed';
  return { runId, artifacts: written.paths, summary: written.summary };
}

import {
  ParentClosePolicy,
  patched,
  executeChild,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { RunConfig } from '../config/schema';
import { parseRunConfig, selectRows } from '../config/validate';
import { ConfigError } from '../config/errors';
import { CONDITIONS } from '../experiment/conditions';
import { armSwaps, swapsByPrefixId } from '../experiment/plan';
import { armConditionEntries, conditionNames, derivedConditionNames, paraphraseSlots } from '../experiment/interventions';
import type { ScoredRecord } from '../experiment/metrics';
import { buildSummary } from '../experiment/summary';
import { InvalidConfigError } from '../errors';
import { storeRefOf, type StoreRef } from '../store/types';
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
import { JudgeSlotLedger, type SlotMessage } from './schedule';

const { prepareRun, writeArtifacts } = proxyActivities<Activities>(storeOptions);

function validate(input: unknown): RunConfig {
  try {
    return parseRunConfig(input, 'probeRun input');
  } catch (e) {
    if (e instanceof ConfigError) throw new InvalidConfigError(e.message, e.problems).toFailure();
    throw e;
  }
}

/**
 * A probe run: validates the resolved config, starts one probeArm child per arm, shares the judge's slots among
 * them through the slot ledger, then has the summary computed and the artifacts written by an activity. The run id
 * is this workflow's id.
 */
export async function probeRun(input: unknown, options: ProbeRunOptions = {}): Promise<ProbeRunResult> {
  const config = validate(input);
  const runId = workflowInfo().workflowId;
  const storeDir = `${config.output.dir.replace(/\/+$/, '')}/${runId}`;
  // Rows inline in the input (older inputs, and tests) are selected here; rows by reference stay in the store.
  const inline = config.dataset.ref === undefined ? selectRows(config) : undefined;
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
  const armHandle = (arm: string) => getExternalWorkflowHandle(armWorkflowId(runId, arm));
  // The slot ledger exists once the run is prepared; a resume before that reaches every arm.
  const live: { slots?: JudgeSlotLedger } = {};
  setHandler(resumeSignal, () => {
    for (const a of Object.values(progress.arms)) a.paused = null;
    for (const arm of live.slots?.runningArms() ?? config.arms.map((a) => a.name)) void armHandle(arm).signal(resumeSignal).catch(() => undefined);
  });

  // The store by reference: a PostgreSQL store is named by the variable holding its URL, never the URL.
  const storeOf = (id: string): { store?: StoreRef } => {
    const store = storeRefOf(config, id);
    return store ? { store } : {};
  };
  const runConfig = inline ? { ...config, dataset: { ...config.dataset, rows: inline, limit: inline.length, shuffle: false } } : config;
  const prepared = await prepareRun({
    storeDir,
    ...storeOf(runId),
    runId,
    config: runConfig,
    resumeFrom: (options.resumeFrom ?? []).map((id) => ({ runId: id, storeDir: `${config.output.dir.replace(/\/+$/, '')}/${id}`, ...storeOf(id) })),
  });

  // The prefix ids only: for a dataset by reference, prepareRun read them from the store.
  const rows: { id: string; sourceId?: string }[] = inline ?? prepared.prefixes!;
  const prefixes = rows.map((r, index) => ({ id: r.id, index, ...(r.sourceId ? { sourceId: r.sourceId } : {}) }));
  const swaps = armSwaps(config, rows);

  // Runs started before judge lending replay without it (their histories have no judgeLend signals).
  const slots = new JudgeSlotLedger(config.arms.map((a) => a.name), config.judge.maxConcurrency, patched('judge-lending-v1'));
  live.slots = slots;
  const send = (messages: SlotMessage[]) =>
    messages.map((m) =>
      ('more' in m ? armHandle(m.arm).signal(judgeGrantSignal, m.more) : armHandle(m.arm).signal(judgeSlotsSignal, m.slots)).catch(() => undefined),
    );
  setHandler(judgeLendSignal, (arm, delta) => void send(slots.lend(arm, delta)));
  progress.phase = 'running';
  const results: ProbeArmResult[] = [];
  let firstFailure: unknown;
  await Promise.allSettled(
    config.arms.map(async (arm) => {
      progress.arms[arm.name]!.status = 'running';
      // Runs with only the note's conditions give their arms exactly the input they always had.
      const derived = derivedConditionNames(config.conditions, arm.name);
      const paraphrase = paraphraseSlots(config.conditions, config.arms.length);
      try {
        const r = await executeChild(probeArm, {
          workflowId: armWorkflowId(runId, arm.name),
          parentClosePolicy: ParentClosePolicy.TERMINATE,
          args: [
            {
              runId, parentWorkflowId: runId, storeDir, ...storeOf(runId), arm: arm.name, armTaskQueue: arm.taskQueue,
              judgeTaskQueue: config.judge.taskQueue ?? workflowInfo().taskQueue, armSlots: arm.maxConcurrency, judgeSlots: slots.slotsOf(arm.name),
              prefixes, samples: config.samplesPerPrefix, conditions: conditionNames(armConditionEntries(config.conditions, arm.name)), swap: swaps[arm.name]!,
              ...(derived.length > 0 ? { derivedConditions: derived } : {}),
              ...(Object.keys(paraphrase).length > 0 ? { paraphrase: { slots: paraphrase, taskQueue: workflowInfo().taskQueue } } : {}),
              maxRequestsPerActivity: config.batching.maxRequestsPerActivity,
              armMaxRetryIntervalSeconds: arm.maxRetryIntervalSeconds,
              judgeMaxRetryIntervalSeconds: config.judge.maxRetryIntervalSeconds,
              ...(config.batching.prefixesPerChunk ? { prefixesPerChunk: config.batching.prefixesPerChunk } : {}),
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
        slots.failed(arm.name);
        if (firstFailure === undefined) {
          firstFailure = err;
          // The other arms finish what they have in flight (so a resumed run reuses it), then stop.
          for (const other of slots.runningArms()) void armHandle(other).signal(stopSignal, `arm ${arm.name} failed`).catch(() => undefined);
        }
        throw err;
      }
      // The judge slots this arm held go to the arms still running.
      await Promise.all(send(slots.finished(arm.name)));
    }),
  );
  if (firstFailure !== undefined) throw firstFailure;

  progress.phase = 'writing';
  const errors = config.arms.flatMap((arm) => results.find((r) => r.arm === arm.name)!.errors);
  // Newer runs: the summary (bootstraps included) is computed by the activity from the store, outside any workflow
  // task, however large the run; the workflow carries no records.
  if (patched('summary-activity-v1')) {
    const written = await writeArtifacts({ storeDir, ...storeOf(runId), runId, swapIndexes: swaps, errors });
    progress.phase = 'completed';
    return { runId, artifacts: written.paths, summary: written.summary };
  }
  const written = await writeArtifacts({ storeDir, runId, ...workflowSummary(config, rows, runId, results, swaps), errors });
  progress.phase = 'completed';
  return { runId, artifacts: written.paths, summary: written.summary };
}

/** Older runs: the summary computed inside the workflow from the arms' compact records, and the swaps by prefix id. */
function workflowSummary(config: RunConfig, rows: { id: string }[], runId: string, results: ProbeArmResult[], swaps: Record<string, number[] | null>) {
  const scored: ScoredRecord[] = [];
  const byArm = new Map(results.map((r) => [r.arm, r]));
  for (const arm of config.arms) {
    const r = byArm.get(arm.name)!;
    for (const [prefixIndex, sample, ci, reward, thoughtWords, suffixWords] of r.records) {
      scored.push({ arm: arm.name, condition: CONDITIONS[ci]!, prefixId: rows[prefixIndex]!.id, sample, reward: reward < 0 ? null : (reward as 0 | 1), thoughtWords, suffixWords });
    }
    for (const e of r.errors) {
      scored.push({ arm: arm.name, condition: e.condition, prefixId: rows[e.prefixIndex]!.id, sample: e.sample, reward: null, thoughtWords: 0, suffixWords: 0 });
    }
  }
  const summary = buildSummary(scored, { runId, armOrder: config.arms.map((a) => a.name), seed: config.seed });
  return { summary, swaps: swapsByPrefixId(swaps, rows) };
}

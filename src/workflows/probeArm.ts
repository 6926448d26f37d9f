import { condition, continueAsNew, getExternalWorkflowHandle, isCancellation, patched, proxyActivities, setHandler, ApplicationFailure, ActivityFailure, CancellationScope } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ArmFailedError, ArmStoppedError, behaviourOf } from '../errors';
import { ArmScheduler, armProgress, carryForward, emptyCarry, prefixesPerChunk, type Batch } from './schedule';
import {
  armProgressQuery,
  armProgressSignal,
  judgeGrantSignal,
  judgeLendSignal,
  judgeSlotsSignal,
  resumeSignal,
  stopSignal,
  type ArmReport,
  type PauseInfo,
  type ProbeArmInput,
  type ProbeArmResult,
} from './api';
import { generationOptions, judgeOptions } from './options';

// Progress goes to the run at most this often (each signal is an event in both histories).
const PROGRESS_EVERY_MS = 2000;
// Newer runs space their progress out as the arm ages (a 128th of its age, at least the above), so that the run's
// history, which receives every arm's signals, holds a few hundred per arm however long the arm runs.
const PROGRESS_AGE_SHARE = 1 / 128;

/** The failure an activity ended with: the ApplicationFailure under Temporal's ActivityFailure, when there is one. */
function failureOf(err: unknown): { type?: string; message: string; cause: unknown } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return { type: cause instanceof ApplicationFailure ? cause.type ?? undefined : undefined, message: (cause as Error)?.message ?? String(cause), cause: err };
}

/**
 * One arm of a run: schedules every thought, suffix and judgment of the arm's plan as activities, within the
 * arm server's and the judge's slots, with no barriers between stages. Returns ids, rewards and word counts.
 * An endpoint down for longer than its outage budget pauses the arm (keeping its work) until `resume`.
 */
export async function probeArm(input: ProbeArmInput): Promise<ProbeArmResult> {
  const genOpts = generationOptions(input.armTaskQueue, input.armMaxRetryIntervalSeconds);
  const judgeOpts = judgeOptions(input.judgeTaskQueue, input.judgeMaxRetryIntervalSeconds);
  // Runs started before judge lending replay without it (their histories have no judgeLend signals).
  const lending = patched('judge-lending-v1');
  // Runs started before judging ahead replay without it (their judge batches carry only stored suffixes).
  const ahead = patched('judge-ahead-v1');
  // Newer runs schedule a large arm in chunks of prefixes and continue as new after each, so no history grows with
  // the run's size; an arm no larger than one chunk runs as before. Older runs replay as one execution.
  const chunked = input.chunk !== undefined || patched('arm-chunks-v1');
  const perChunk = prefixesPerChunk(input.samples, input.conditions, input.prefixesPerChunk);
  const carried = input.chunk?.carried ?? emptyCarry(input.judgeSlots);
  const start = input.chunk?.start ?? 0;
  const range = chunked && input.prefixes.length > perChunk ? { start, end: Math.min(input.prefixes.length, start + perChunk) } : undefined;
  const scheduler = new ArmScheduler({
    judgeLending: lending,
    judgeAhead: ahead,
    arm: input.arm,
    prefixes: input.prefixes,
    samples: input.samples,
    conditions: input.conditions,
    swap: input.swap,
    ...(input.derivedConditions ? { derivedConditions: input.derivedConditions } : {}),
    ...(input.paraphrase ? { paraphrase: input.paraphrase.slots } : {}),
    armSlots: input.armSlots,
    judgeSlots: carried.judgeSlots,
    maxRequestsPerActivity: input.maxRequestsPerActivity,
    ...(range ? { range } : {}),
  });
  let changed = true;
  let fatal: unknown;
  let paused: PauseInfo | null = null;
  let batches = 0;
  const reportOf = (): ArmReport => ({
    ...(range ? armProgress(carried, scheduler.progress(), input.prefixes.length, input.samples, input.conditions) : scheduler.progress()),
    paused,
  });
  let asking = false;
  setHandler(judgeSlotsSignal, (slots) => {
    scheduler.setJudgeSlots(slots);
    changed = true;
  });
  setHandler(judgeGrantSignal, (more) => {
    scheduler.setJudgeSlots(scheduler.currentJudgeSlots + more);
    asking = false;
    changed = true;
  });
  setHandler(resumeSignal, () => {
    paused = null;
    changed = true;
  });
  let stopping: string | undefined;
  setHandler(stopSignal, (reason) => {
    stopping ??= reason;
    changed = true;
  });
  setHandler(armProgressQuery, reportOf);
  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  let lastSent = 0;
  const armStarted = carried.startedAt ?? Date.now();
  const spaced = chunked && patched('progress-spacing-v1');
  const report = (force: boolean): Promise<void> | undefined => {
    const now = Date.now();
    const every = spaced ? Math.max(PROGRESS_EVERY_MS, (now - armStarted) * PROGRESS_AGE_SHARE) : PROGRESS_EVERY_MS;
    if (!force && now - lastSent < every) return undefined;
    lastSent = now;
    // Progress is advisory: a lost signal (the run already closing) must not fail the arm.
    return parent.signal(armProgressSignal, input.arm, reportOf()).catch(() => undefined);
  };

  let inFlight = 0;
  // Judge batches in flight, each in its own scope so that a failing arm can call off those waiting for suffixes.
  const judgeScopes = new Map<number, CancellationScope>();
  let callingOff = false;
  const begin = (b: Batch) => {
    batches++;
    inFlight++;
    // A proxy per batch, so the activity id names the arm, stage and first sample it carries.
    const done =
      b.endpoint === 'arm'
        ? proxyActivities<Activities>({ ...genOpts, activityId: b.activityId })
            .generate({ storeDir: input.storeDir, ...(input.store ? { store: input.store } : {}), arm: input.arm, lanes: b.lanes, items: b.items })
            .then((r) => scheduler.completeGeneration(b.seq, r))
        : b.endpoint === 'paraphrase'
          ? paraphraseBatch(b)
          : judgeBatch(b);
    done.then(
      () => {
        inFlight--;
        judgeScopes.delete(b.seq);
        changed = true;
      },
      (err: unknown) => {
        inFlight--;
        judgeScopes.delete(b.seq);
        changed = true;
        // A batch this arm called off while failing: what it judged is stored; the failure is the arm's own.
        if (callingOff && isCancellation(err)) return;
        const f = failureOf(err);
        // An endpoint down for longer than its outage budget pauses the arm; anything else fatal ends it.
        if (behaviourOf(f.type) === 'pause') {
          scheduler.requeue(b.seq);
          paused ??= { endpoint: b.endpoint, since: new Date(Date.now()).toISOString(), message: f.message };
          void report(true);
        } else {
          fatal ??= err;
        }
      },
    );
  };
  // Only runs with paraphrased_thought conditions schedule these (older histories have none).
  const paraphraseBatch = (b: Batch) =>
    proxyActivities<Activities>({ ...generationOptions(input.paraphrase!.taskQueue, input.armMaxRetryIntervalSeconds), activityId: b.activityId })
      .paraphrase({ storeDir: input.storeDir, ...(input.store ? { store: input.store } : {}), arm: input.arm, lanes: b.lanes, items: b.items })
      .then((r) => scheduler.completeParaphrase(b.seq, r));
  const judgeBatch = (b: Batch) => {
    const scope = new CancellationScope();
    judgeScopes.set(b.seq, scope);
    return scope.run(() =>
      proxyActivities<Activities>({ ...judgeOpts, activityId: b.activityId })
        .judge({ storeDir: input.storeDir, ...(input.store ? { store: input.store } : {}), runId: input.runId, arm: input.arm, lanes: b.lanes, items: b.items, ...(ahead ? { ahead } : {}) })
        .then((r) => scheduler.completeJudge(b.seq, r)),
    );
  };

  while (!scheduler.isDone()) {
    await condition(() => changed);
    changed = false;
    if (fatal !== undefined || stopping !== undefined) {
      // Judging ahead, judge batches wait for suffixes that will now never come: newer runs call them off at once
      // (what they judged is stored). Older runs waited for them to give up.
      if (ahead && judgeScopes.size > 0 && patched('call-off-judges-v1')) {
        callingOff = true;
        for (const scope of judgeScopes.values()) scope.cancel();
      }
      // Let generation batches in flight finish (their results are stored and reused by a resumed run), then fail.
      await condition(() => inFlight === 0, '60 seconds');
      // The arm's failure keeps the activity's as its cause, so the run and `debug` read what happened, not a message.
      if (fatal !== undefined) throw new ArmFailedError(input.arm, failureOf(fatal).message, fatal).toFailure();
      throw new ArmStoppedError(input.arm, stopping!).toFailure();
    }
    if (paused === null) for (const b of scheduler.nextBatches()) begin(b);
    if (lending) {
      // Slots this arm cannot use go back to the run at once; more are asked for once, until granted.
      const { release, want } = scheduler.judgeLending();
      if (release > 0) {
        scheduler.lowerJudgeSlots(scheduler.currentJudgeSlots - release);
        void parent.signal(judgeLendSignal, input.arm, -release).catch(() => undefined);
      } else if (want > 0 && !asking) {
        asking = true;
        void parent.signal(judgeLendSignal, input.arm, want).catch(() => undefined);
      }
    }
    // Not awaited: scheduling never waits for a progress signal to be delivered.
    void report(false);
  }
  await report(true);
  if (range) {
    const next = { ...carryForward(carried, scheduler.progress(), scheduler.errors(), batches, scheduler.currentJudgeSlots), startedAt: armStarted };
    // The next chunk is a new execution of this workflow id: the run's signals and its wait for the result follow it.
    if (range.end < input.prefixes.length) return continueAsNew<typeof probeArm>({ ...input, chunk: { start: range.end, carried: next } });
    return { arm: input.arm, records: [], errors: next.failures.map((e) => ({ arm: input.arm, ...e })), batches: next.batches };
  }
  const errors = scheduler.errors().map((e) => ({ arm: input.arm, ...e }));
  // Newer runs compute the summary from the store: the run needs no records from its arms.
  const records = patched('summary-activity-v1') ? [] : scheduler.compactRecords();
  return { arm: input.arm, records, errors, batches };
}

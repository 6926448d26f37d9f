import { condition, getExternalWorkflowHandle, proxyActivities, setHandler, ApplicationFailure, ActivityFailure } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ArmScheduler, type Batch } from '../experiment/schedule';
import { armProgressQuery, armProgressSignal, judgeSlotsSignal, type ProbeArmInput, type ProbeArmResult } from './api';
import { generationOptions, judgeOptions } from './options';

// Progress goes to the run at most this often (each signal is an event in both histories).
const PROGRESS_EVERY_MS = 2000;

/**
 * One arm of a run: schedules every thought, suffix and judgment of the arm's plan as activities, within the
 * arm server's and the judge's slots, with no barriers between stages. Returns ids, rewards and word counts.
 */
export async function probeArm(input: ProbeArmInput): Promise<ProbeArmResult> {
  const genOpts = generationOptions(input.armTaskQueue, input.armMaxRetryIntervalSeconds);
  const judgeOpts = judgeOptions(input.judgeTaskQueue, input.judgeMaxRetryIntervalSeconds);
  const scheduler = new ArmScheduler({
    arm: input.arm,
    prefixes: input.prefixes,
    samples: input.samples,
    conditions: input.conditions,
    swap: input.swap,
    armSlots: input.armSlots,
    judgeSlots: input.judgeSlots,
    maxRequestsPerActivity: input.maxRequestsPerActivity,
  });
  let changed = true;
  let fatal: unknown;
  let batches = 0;
  setHandler(judgeSlotsSignal, (slots) => {
    scheduler.setJudgeSlots(slots);
    changed = true;
  });
  setHandler(armProgressQuery, () => scheduler.progress());
  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  let lastSent = 0;
  const report = (force: boolean): Promise<void> | undefined => {
    const now = Date.now();
    if (!force && now - lastSent < PROGRESS_EVERY_MS) return undefined;
    lastSent = now;
    // Progress is advisory: a lost signal (the run already closing) must not fail the arm.
    return parent.signal(armProgressSignal, input.arm, scheduler.progress()).catch(() => undefined);
  };

  const start = (b: Batch) => {
    batches++;
    // A proxy per batch, so the activity id names the arm, stage and first sample it carries.
    const done =
      b.endpoint === 'arm'
        ? proxyActivities<Activities>({ ...genOpts, activityId: b.activityId })
            .generate({ storeDir: input.storeDir, arm: input.arm, lanes: b.lanes, items: b.items })
            .then((r) => scheduler.completeGeneration(b.seq, r))
        : proxyActivities<Activities>({ ...judgeOpts, activityId: b.activityId })
            .judge({ storeDir: input.storeDir, runId: input.runId, arm: input.arm, lanes: b.lanes, items: b.items })
            .then((r) => scheduler.completeJudge(b.seq, r));
    done.then(
      () => {
        changed = true;
      },
      (err: unknown) => {
        fatal ??= err;
        changed = true;
      },
    );
  };

  while (!scheduler.isDone()) {
    await condition(() => changed);
    changed = false;
    if (fatal !== undefined) {
      const cause = fatal instanceof ActivityFailure && fatal.cause ? fatal.cause : fatal;
      throw ApplicationFailure.nonRetryable(`arm ${input.arm}: ${(cause as Error).message}`, 'ArmFailed');
    }
    for (const b of scheduler.nextBatches()) start(b);
    // Not awaited: scheduling never waits for a progress signal to be delivered.
    void report(false);
  }
  await report(true);
  const errors = scheduler.errors().map((e) => ({ arm: input.arm, ...e }));
  return { arm: input.arm, records: scheduler.compactRecords(), errors, batches };
}

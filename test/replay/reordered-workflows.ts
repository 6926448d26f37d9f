/**
 * A deliberately nondeterministic variant of the workflows, for test/replay/replay.test.ts: probeRun is the real
 * one; probeArm schedules its first batches in reverse order (as a careless change of the scheduler would),
 * so replaying a history recorded by the real probeArm must fail on the first ActivityTaskScheduled event.
 * Never registered by a worker.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../src/activities';
import { ArmScheduler } from '../../src/workflows/schedule';
import type { ProbeArmInput } from '../../src/workflows/api';
import { generationOptions, judgeOptions } from '../../src/workflows/options';

export { probeRun } from '../../src/workflows/probeRun';

export async function probeArm(input: ProbeArmInput): Promise<void> {
  // As the real probeArm does first, so that the variant differs only in the order of its batches.
  const lending = patched('judge-lending-v1');
  const ahead = patched('judge-ahead-v1');
  patched('arm-chunks-v1');
  patched('progress-spacing-v1');
  const scheduler = new ArmScheduler({
    judgeLending: lending,
    judgeAhead: ahead,
    arm: input.arm,
    prefixes: input.prefixes,
    samples: input.samples,
    conditions: input.conditions,
    swap: input.swap,
    armSlots: input.armSlots,
    judgeSlots: input.judgeSlots,
    maxRequestsPerActivity: input.maxRequestsPerActivity,
  });
  const batches = scheduler.nextBatches().reverse();
  await Promise.all(
    batches.map((b) =>
      b.endpoint === 'arm'
        ? proxyActivities<Activities>({ ...generationOptions(input.armTaskQueue, 1), activityId: b.activityId }).generate({
            storeDir: input.storeDir, arm: input.arm, lanes: b.lanes, items: b.items,
          })
        : proxyActivities<Activities>({ ...judgeOptions(input.judgeTaskQueue, 1), activityId: b.activityId }).judge({
            storeDir: input.storeDir, runId: input.runId, arm: input.arm, lanes: b.lanes, items: b.items, ...(ahead ? { ahead } : {}),
          }),
    ),
  );
}

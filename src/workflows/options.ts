import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_TYPES } from '../errors';

// Error types that end a request for good; activities also mark every non-retryable failure as such (src/errors).
const NON_RETRYABLE = NON_RETRYABLE_TYPES;

/** Options of generation activities (a batch of thought and suffix requests to one arm server). */
export function generationOptions(taskQueue: string, maxRetryIntervalSeconds: number): ActivityOptions {
  return {
    taskQueue,
    // A batch can carry many requests in a few lanes; the heartbeat, not this, detects a dead worker.
    startToCloseTimeout: '2 hours',
    // The activity heartbeats every second while it runs; a killed worker is noticed within this.
    heartbeatTimeout: '15 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      // Capped so that a recovered server is noticed soon; attempts are unlimited: an outage waits.
      maximumInterval: `${maxRetryIntervalSeconds} seconds`,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
}

/** Options of judge activities: like generation, with the judge's own retry cap. */
export function judgeOptions(taskQueue: string, maxRetryIntervalSeconds: number): ActivityOptions {
  return generationOptions(taskQueue, maxRetryIntervalSeconds);
}

/** Options of the run's bookkeeping activities (config and artifacts on the local file system). */
export const storeOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
};

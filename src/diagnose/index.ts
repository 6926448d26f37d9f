// The public surface of src/diagnose: reading a run's state from Temporal, the advice rules, the text of `debug`,
// pending activities for `status`, and failure chains with their root cause for `run` and `result`.
import type { Client } from '@temporalio/client';
import { advise } from './advice';
import { readRun } from './read';
import type { RunDiagnosis } from './render';

export { advise, shellWord, type Advice } from './advice';
export { endpointInMessage, endpointOf, errorChain, failureChain, renderLink, rootCause, type FailingEndpoint, type FailureLink } from './failure';
export { describeHeartbeat, heartbeatCheckpoint, pendingActivitiesOf, type HeartbeatCheckpoint, type PendingActivity } from './pending';
export { diagnoseHistory, diagnoseWorkflow, readRun, type FailedActivity, type RunState, type WorkflowDiagnosis, type WorkflowTaskFailure } from './read';
export { renderDiagnosis, type RunDiagnosis } from './render';

/** What Temporal shows of a run and its children, and what to do next. */
export async function diagnoseRun(client: Client, runId: string): Promise<RunDiagnosis> {
  const state = await readRun(client, runId);
  return { ...state, advice: advise(runId, state.workflows, state.workerPolling) };
}

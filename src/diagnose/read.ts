// Reads what Temporal knows about a run and its arm children: failures and workflow task failures from history,
// pending work from describe, whether a worker polls. No advice here (./advice) and no text (./render).
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { History } from '../replay/files';
import { eventTypeName, explainNondeterminism, type NondeterminismReport } from '../replay/nondeterminism';
import { childWorkflowIds } from '../replay/replay';
import type { ArmReport } from '../workflows/api';
import { decodePayload, iso } from './decode';
import { failureChain, type FailureLink } from './failure';
import { describeHeartbeat, pendingActivitiesOf, type PendingActivity } from './pending';

/** An activity that failed for good (from history). */
export interface FailedActivity {
  activityId: string;
  activityType: string;
  attempt: number;
  at?: string;
  failure: FailureLink[];
  /** Heartbeat details of a timed-out activity (a failed one has none in history). */
  heartbeat?: string;
}

/** A workflow task that failed: nondeterminism, or an error thrown by workflow code. */
export interface WorkflowTaskFailure {
  eventId: number;
  at?: string;
  cause: string;
  message: string;
  /** A later workflow task completed: the failure is behind the workflow. */
  resolved: boolean;
  nondeterminism?: NondeterminismReport;
  /** The last completed workflow task before the event the code diverges at: where a reset lets the new code take over. */
  resetEventId?: number;
  /** Whether that is the workflow's last completed workflow task (`--type LastWorkflowTask`). */
  resetIsLast?: boolean;
}

/** What `debug` found about one workflow. */
export interface WorkflowDiagnosis {
  workflowId: string;
  type: string;
  status: string;
  taskQueue: string;
  startedAt?: string;
  closedAt?: string;
  failure: FailureLink[];
  workflowTaskFailures: WorkflowTaskFailure[];
  pendingWorkflowTaskAttempt?: number;
  failedActivities: FailedActivity[];
  pendingActivities: PendingActivity[];
  /** Arms paused by their outage budget (from the run's latest progress signals). */
  pausedArms: { arm: string; endpoint: string; since: string; message: string }[];
  children: string[];
}

/** What Temporal shows of a run: its workflow first, then its children. */
export interface RunState {
  runId: string;
  workflows: WorkflowDiagnosis[];
  /** Whether some worker polls the run's task queue (only asked for running runs). */
  workerPolling?: boolean;
}

/** Reads one workflow's failures, failed workflow tasks, failed activities and paused arms from its history. */
export function diagnoseHistory(history: History): Omit<WorkflowDiagnosis, 'workflowId' | 'type' | 'status' | 'taskQueue' | 'pendingActivities'> {
  const events = history.events ?? [];
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const failure: FailureLink[] = [];
  const workflowTaskFailures: WorkflowTaskFailure[] = [];
  const failedActivities: FailedActivity[] = [];
  const lastProgress = new Map<string, ArmReport>();
  let lastCompletedWft = -1;
  const completedWfts: number[] = [];
  for (const e of events) {
    const type = eventTypeName(e.eventType);
    const id = Number(e.eventId);
    if (type === 'WorkflowTaskCompleted') {
      lastCompletedWft = id;
      completedWfts.push(id);
    }
    if (type === 'WorkflowExecutionFailed') failure.push(...failureChain(e.workflowExecutionFailedEventAttributes?.failure));
    if (type === 'WorkflowExecutionTimedOut') failure.push({ kind: 'TimeoutFailure', message: 'workflow execution timed out' });
    if (type === 'WorkflowExecutionTerminated') {
      const a = e.workflowExecutionTerminatedEventAttributes;
      failure.push({ kind: 'TerminatedFailure', message: `terminated${a?.identity ? ` by ${a.identity}` : ''}${a?.reason ? `: ${a.reason}` : ''}` });
    }
    if (type === 'WorkflowTaskFailed') {
      const a = e.workflowTaskFailedEventAttributes;
      const cause = (temporal.api.enums.v1.WorkflowTaskFailedCause[a?.cause ?? 0] ?? String(a?.cause)).replace(/^WORKFLOW_TASK_FAILED_CAUSE_/, '');
      const message = a?.failure?.message ?? '';
      const isNd = cause === 'NON_DETERMINISTIC_ERROR' || /TMPRL1100|Nondeterminism/i.test(message);
      workflowTaskFailures.push({ eventId: id, at: iso(e.eventTime), cause, message, resolved: false, ...(isNd ? { nondeterminism: explainNondeterminism(message, history) } : {}) });
    }
    if (type === 'ActivityTaskFailed' || type === 'ActivityTaskTimedOut') {
      const a = type === 'ActivityTaskFailed' ? e.activityTaskFailedEventAttributes : e.activityTaskTimedOutEventAttributes;
      const scheduled = byId.get(Number(a?.scheduledEventId))?.activityTaskScheduledEventAttributes;
      const started = byId.get(Number(a?.startedEventId))?.activityTaskStartedEventAttributes;
      const f = a?.failure;
      const hb = f?.timeoutFailureInfo?.lastHeartbeatDetails?.payloads?.[0];
      failedActivities.push({
        activityId: scheduled?.activityId ?? '?',
        activityType: scheduled?.activityType?.name ?? '?',
        attempt: started?.attempt ?? 1,
        at: iso(e.eventTime),
        failure: failureChain(f),
        ...(hb ? { heartbeat: describeHeartbeat(decodePayload(hb)) } : {}),
      });
    }
    if (type === 'WorkflowExecutionSignaled') {
      const a = e.workflowExecutionSignaledEventAttributes;
      if (a?.signalName === 'armProgress') {
        const [arm, report] = (a.input?.payloads ?? []).map(decodePayload) as [string, ArmReport];
        if (typeof arm === 'string' && report) lastProgress.set(arm, report);
      } else if (a?.signalName === 'resume') {
        for (const r of lastProgress.values()) r.paused = null;
      }
    }
  }
  for (const w of workflowTaskFailures) {
    w.resolved = lastCompletedWft > w.eventId;
    const diverges = w.nondeterminism?.eventId;
    const reset = diverges !== undefined ? completedWfts.filter((c) => c < diverges).pop() : undefined;
    if (reset !== undefined) {
      w.resetEventId = reset;
      w.resetIsLast = reset === lastCompletedWft;
    }
  }
  const pausedArms = [...lastProgress.entries()].filter(([, r]) => r.paused).map(([arm, r]) => ({ arm, ...r.paused! }));
  return { failure, workflowTaskFailures, failedActivities, pausedArms, children: childWorkflowIds(history) };
}

/** One workflow from describe and its history. */
export async function diagnoseWorkflow(client: Client, workflowId: string): Promise<WorkflowDiagnosis> {
  const handle = client.workflow.getHandle(workflowId);
  const [d, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
  return {
    workflowId,
    type: d.type,
    status: d.status.name,
    taskQueue: d.taskQueue,
    startedAt: d.startTime?.toISOString(),
    closedAt: d.closeTime?.toISOString(),
    ...diagnoseHistory(history),
    ...(d.raw.pendingWorkflowTask?.attempt ? { pendingWorkflowTaskAttempt: d.raw.pendingWorkflowTask.attempt } : {}),
    pendingActivities: pendingActivitiesOf(d.raw),
  };
}

async function workerPolling(client: Client, taskQueue: string): Promise<boolean | undefined> {
  try {
    const r = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (r.pollers ?? []).length > 0;
  } catch {
    return undefined;
  }
}

/**
 * The run's and its children's state from Temporal. A run that does not exist rejects with the client's
 * WorkflowNotFoundError; a child that does not exist (yet, or any more) is left out.
 */
export async function readRun(client: Client, runId: string): Promise<RunState> {
  const workflows: WorkflowDiagnosis[] = [];
  const queue = [runId];
  const seen = new Set<string>();
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const w = await diagnoseWorkflow(client, id).catch((e: Error) => {
      if (id !== runId && e.name === 'WorkflowNotFoundError') return undefined;
      throw e;
    });
    if (!w) continue;
    workflows.push(w);
    queue.push(...w.children);
  }
  const polling = workflows[0]!.status === 'RUNNING' ? await workerPolling(client, workflows[0]!.taskQueue) : undefined;
  return { runId, workflows, ...(polling !== undefined ? { workerPolling: polling } : {}) };
}

// The one decoder of a workflow's pending activities (from describe), with their heartbeat checkpoints and last
// failures, for `status` and `debug`.
import { temporal } from '@temporalio/proto';
import { decodePayload, iso } from './decode';
import { failureChain, type FailureLink } from './failure';

type Describe = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;

/** What a batch activity's heartbeat checkpoint (`{done, outageSince?, lastError?}`) says. */
export interface HeartbeatCheckpoint {
  /** Requests of the batch finished and checkpointed. */
  done: number;
  /** Of those, the ones that succeeded (the others failed for their sample). */
  ok: number;
  /** When the endpoint of this batch started failing. */
  outageSince?: string;
  lastError?: string;
}

/** An activity still scheduled, running, retrying or paused (from describe). */
export interface PendingActivity {
  activityId: string;
  activityType: string;
  state: string;
  paused: boolean;
  attempt: number;
  maximumAttempts: number;
  lastFailure?: FailureLink[];
  lastFailureAt?: string;
  nextAttemptAt?: string;
  lastHeartbeatAt?: string;
  /** The heartbeat details in a line. */
  heartbeat?: string;
  checkpoint?: HeartbeatCheckpoint;
}

/** The checkpoint in heartbeat details, when they are one. */
export function heartbeatCheckpoint(details: unknown): HeartbeatCheckpoint | undefined {
  const cp = details as { done?: unknown; outageSince?: unknown; lastError?: unknown } | null | undefined;
  if (!cp || typeof cp !== 'object' || !Array.isArray(cp.done)) return undefined;
  const ok = cp.done.filter((d) => Array.isArray(d) && (d[1] as { ok?: boolean } | undefined)?.ok === true).length;
  return {
    done: cp.done.length,
    ok,
    ...(typeof cp.outageSince === 'number' ? { outageSince: new Date(cp.outageSince).toISOString() } : {}),
    ...(cp.lastError ? { lastError: String(cp.lastError) } : {}),
  };
}

/** A heartbeat checkpoint in a line; other details as short JSON. */
export function describeHeartbeat(details: unknown): string | undefined {
  if (details === undefined || details === null) return undefined;
  const cp = heartbeatCheckpoint(details);
  if (cp) {
    const parts = [`${cp.done} requests checkpointed (${cp.ok} ok, ${cp.done - cp.ok} failed for their sample)`];
    if (cp.outageSince) parts.push(`endpoint failing since ${cp.outageSince}`);
    if (cp.lastError) parts.push(`last error: ${cp.lastError}`);
    return parts.join('; ');
  }
  const s = JSON.stringify(details);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** The pending activities of a workflow, from its describe response. */
export function pendingActivitiesOf(raw: Describe): PendingActivity[] {
  return (raw.pendingActivities ?? []).map((p) => {
    const details = decodePayload(p.heartbeatDetails?.payloads?.[0]);
    const checkpoint = heartbeatCheckpoint(details);
    const lastFailureAt = iso(p.lastAttemptCompleteTime);
    const nextAttemptAt = iso(p.nextAttemptScheduleTime);
    const lastHeartbeatAt = iso(p.lastHeartbeatTime);
    const heartbeat = describeHeartbeat(details);
    return {
      activityId: p.activityId ?? '',
      activityType: p.activityType?.name ?? '',
      state: (temporal.api.enums.v1.PendingActivityState[p.state ?? 0] ?? String(p.state)).replace(/^PENDING_ACTIVITY_STATE_/, ''),
      paused: !!p.paused || p.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED,
      attempt: p.attempt ?? 0,
      maximumAttempts: p.maximumAttempts ?? 0,
      ...(p.lastFailure ? { lastFailure: failureChain(p.lastFailure) } : {}),
      ...(lastFailureAt ? { lastFailureAt } : {}),
      ...(nextAttemptAt ? { nextAttemptAt } : {}),
      ...(lastHeartbeatAt ? { lastHeartbeatAt } : {}),
      ...(heartbeat ? { heartbeat } : {}),
      ...(checkpoint ? { checkpoint } : {}),
    };
  });
}

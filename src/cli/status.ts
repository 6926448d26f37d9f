import type { Client } from '@temporalio/client';
import { pendingActivitiesOf } from '../diagnose';
import { armWorkflowId, progressQuery, type ProbeRunResult, type RunProgress } from '../workflows/api';
import { connectClient, uiLink } from './temporal';
import { runNotFound } from './errors';
import { runFailed } from './follow';
import { printResult } from './run';

/** A pending activity of an arm child, as `status` shows it (`status --json` prints these). */
export interface PendingActivityView {
  workflowId: string;
  activityId: string;
  state: string;
  attempt: number;
  lastFailure?: string;
  lastFailureAt?: string;
  lastHeartbeatAt?: string;
  /** When the endpoint of this batch started failing (from its heartbeat checkpoint). */
  outageSince?: string;
  /** Requests of the batch already finished and checkpointed. */
  checkpointed?: number;
}

/** The pending activities of a run's arm children, with their attempts and last failures. */
export async function pendingActivities(client: Client, runId: string, arms: string[]): Promise<PendingActivityView[]> {
  const out: PendingActivityView[] = [];
  for (const arm of arms) {
    const id = armWorkflowId(runId, arm);
    const d = await client.workflow.getHandle(id).describe().catch(() => undefined);
    for (const p of d ? pendingActivitiesOf(d.raw) : []) {
      out.push({
        workflowId: id,
        ...(p.checkpoint?.outageSince ? { outageSince: p.checkpoint.outageSince } : {}),
        ...(p.checkpoint ? { checkpointed: p.checkpoint.done } : {}),
        activityId: p.activityId,
        state: p.state,
        attempt: p.attempt,
        lastFailure: p.lastFailure?.[0]?.message,
        lastFailureAt: p.lastFailureAt,
        lastHeartbeatAt: p.lastHeartbeatAt,
      });
    }
  }
  return out;
}

function pct(done: number, total: number) {
  return total === 0 ? '-' : `${done}/${total}`;
}

/** Renders a run's progress and the failures of activities still retrying. */
export function renderStatus(p: RunProgress, pending: PendingActivityView[], status: string): string {
  const lines = [`run ${p.runId} (${p.name}): ${status}, phase ${p.phase}, started ${p.startedAt}`];
  lines.push('arm                  thoughts      suffixes      judged        waiting  state');
  for (const [arm, a] of Object.entries(p.arms)) {
    lines.push(`${arm.padEnd(20)} ${pct(a.thought.done, a.thought.total).padEnd(13)} ${pct(a.suffix.done, a.suffix.total).padEnd(13)} ${pct(a.judge.done, a.judge.total).padEnd(13)} ${String(a.judgmentsWaiting).padEnd(8)} ${a.status}${a.lastError ? ` (last error ${a.lastError.at}: ${a.lastError.message})` : ''}`);
  }
  const rewardLines = Object.entries(p.arms).filter(([, a]) => Object.keys(a.rewards ?? {}).length > 0);
  if (rewardLines.length) {
    lines.push('running reward means (valid judgments so far):');
    for (const [arm, a] of rewardLines) {
      lines.push(`  ${arm.padEnd(20)} ${Object.entries(a.rewards).map(([c, r]) => `${c} ${r.mean === null ? 'n/a' : r.mean.toFixed(4)} (${r.valid})`).join('  ')}`);
    }
  }
  for (const [arm, a] of Object.entries(p.arms)) {
    if (a.paused) lines.push(`PAUSED ${arm}: the ${a.paused.endpoint} exceeded its outage budget at ${a.paused.since}: ${a.paused.message}\n  all work is kept; continue with: thought-probe resume ${p.runId}`);
  }
  const failing = pending.filter((x) => x.lastFailure);
  if (failing.length) {
    const sinces = failing.map((f) => f.outageSince ?? f.lastFailureAt ?? '').filter(Boolean).sort();
    const last = failing.reduce((a, b) => ((a.lastFailureAt ?? '') > (b.lastFailureAt ?? '') ? a : b));
    const waiting = Object.values(p.arms).reduce((n, a) => n + a.judgmentsWaiting, 0);
    lines.push(`OUTAGE: ${failing.length} activities retrying since ${sinces[0] ?? '?'}; ${waiting} judgments waiting; last error ${last.lastFailureAt ?? '?'}: ${last.lastFailure}`);
    for (const f of failing.slice(0, 5)) lines.push(`  ${f.activityId} attempt ${f.attempt}${f.checkpointed ? `, ${f.checkpointed} requests checkpointed` : ''}: ${f.lastFailure}`);
  }
  return lines.join('\n');
}

/** `thought-probe status RUN_ID` (its arguments and options are in ./commands, which loads this module to run it). */
export async function statusCommand(runId: string, opts: { json?: boolean }): Promise<void> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(runId);
  const d = await handle.describe().catch(runNotFound(runId));
  const p = await handle.query(progressQuery);
  const pending = await pendingActivities(client, runId, Object.keys(p.arms));
  if (opts.json) process.stdout.write(`${JSON.stringify({ status: d.status.name, progress: p, pending }, null, 2)}\n`);
  else process.stdout.write(`${renderStatus(p, pending, d.status.name)}\n  ${uiLink(client.options.namespace, runId)}\n`);
}

/** `thought-probe result RUN_ID` (its arguments and options are in ./commands, which loads this module to run it). */
export async function resultCommand(runId: string): Promise<void> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(runId);
  await handle.describe().catch(runNotFound(runId));
  printResult((await handle.result().catch(runFailed(runId))) as ProbeRunResult);
}

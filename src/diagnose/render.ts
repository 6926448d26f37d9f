// `thought-probe debug` as text: per workflow what was read (./read), then the failing endpoints and the advice.
import { renderNondeterminism } from '../replay/nondeterminism';
import type { Advice } from './advice';
import { endpointOf, renderLink, type FailureLink } from './failure';
import type { RunState } from './read';

/** What `debug` found about a run and its children, and what to do. */
export interface RunDiagnosis extends RunState {
  advice: Advice[];
}

// Failed and pending activities listed per workflow; the rest are counted.
const MAX_LISTED = 5;

function renderChain(chain: FailureLink[], indent: string): string[] {
  return chain.map((l, i) => `${indent}${i === 0 ? '' : '<- '}${renderLink(l)}`);
}

/** The diagnosis as text. */
export function renderDiagnosis(d: RunDiagnosis): string {
  const lines: string[] = [];
  for (const [i, w] of d.workflows.entries()) {
    lines.push(`${i === 0 ? 'run' : 'child'} ${w.workflowId} (${w.type}): ${w.status}${w.startedAt ? `, started ${w.startedAt}` : ''}${w.closedAt ? `, closed ${w.closedAt}` : ''}`);
    if (w.failure.length) {
      lines.push('  failure:');
      lines.push(...renderChain(w.failure, '    '));
    }
    for (const f of w.workflowTaskFailures) {
      lines.push(`  workflow task failed at event ${f.eventId}${f.at ? ` (${f.at})` : ''}: ${f.cause}${f.resolved ? ' (a later task completed)' : ''}${w.pendingWorkflowTaskAttempt && !f.resolved ? `, the task is at attempt ${w.pendingWorkflowTaskAttempt}` : ''}`);
      if (f.nondeterminism) lines.push(...renderNondeterminism(f.nondeterminism, '    '));
      else lines.push(`    ${f.message}`);
    }
    if (w.failedActivities.length) {
      lines.push(`  failed activities (${w.failedActivities.length}):`);
      for (const a of w.failedActivities.slice(0, MAX_LISTED)) {
        lines.push(`    ${a.activityId} (${a.activityType}), attempt ${a.attempt}, failed ${a.at ?? '?'}`);
        lines.push(...renderChain(a.failure, '      '));
        lines.push(`      last heartbeat: ${a.heartbeat ?? 'none in history'}`);
      }
      if (w.failedActivities.length > MAX_LISTED) lines.push(`    ... and ${w.failedActivities.length - MAX_LISTED} more`);
    }
    if (w.pendingActivities.length) {
      lines.push(`  pending activities (${w.pendingActivities.length}):`);
      for (const p of w.pendingActivities.slice(0, MAX_LISTED)) {
        lines.push(`    ${p.activityId} (${p.activityType}) ${p.state}${p.paused && p.state !== 'PAUSED' ? ' (paused)' : ''}, attempt ${p.attempt}${p.maximumAttempts ? ` of ${p.maximumAttempts}` : ''}${p.nextAttemptAt ? `, next attempt ${p.nextAttemptAt}` : ''}`);
        if (p.lastFailure) {
          lines.push(`      last failure${p.lastFailureAt ? ` ${p.lastFailureAt}` : ''}:`);
          lines.push(...renderChain(p.lastFailure, '        '));
        }
        lines.push(`      last heartbeat: ${p.lastHeartbeatAt ?? 'none'}${p.heartbeat ? `: ${p.heartbeat}` : ''}`);
      }
      if (w.pendingActivities.length > MAX_LISTED) lines.push(`    ... and ${w.pendingActivities.length - MAX_LISTED} more`);
    }
    for (const p of w.pausedArms) lines.push(`  arm ${p.arm} PAUSED: the ${p.endpoint} exceeded its outage budget at ${p.since}: ${p.message}`);
  }
  if (d.workerPolling === false) lines.push(`no worker polls task queue ${d.workflows[0]!.taskQueue}`);
  const eps = new Map<string, string>();
  for (const w of d.workflows) {
    for (const l of [...w.failure, ...w.failedActivities.flatMap((a) => a.failure), ...w.pendingActivities.flatMap((a) => a.lastFailure ?? [])]) {
      const ep = endpointOf(l);
      if (ep) eps.set(`${ep.role}|${ep.baseURL}|${ep.model}`, `${ep.role} endpoint ${ep.baseURL} model "${ep.model}"${ep.status ? `: ${ep.status}` : ''}`);
    }
  }
  for (const e of eps.values()) lines.push(`failing endpoint: ${e}`);
  lines.push('what to do next:');
  d.advice.forEach((a, i) => {
    lines.push(`  ${i + 1}. ${a.why}`);
    for (const c of a.commands) lines.push(`       ${c}`);
  });
  return lines.join('\n');
}

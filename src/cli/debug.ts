import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { History } from '../replay/files';
import { eventTypeName, explainNondeterminism, renderNondeterminism, type NondeterminismReport } from '../replay/nondeterminism';
import { childWorkflowIds } from '../replay/replay';
import type { ArmReport } from '../workflows/api';
import { runNotFound } from './errors';
import { connectClient, uiLink } from './temporal';

type Failure = temporal.api.failure.v1.IFailure;
type Payload = temporal.api.common.v1.IPayload;
type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

/** One link of a failure chain: what failed, its error type, its message. */
export interface FailureLink {
  kind: string;
  type?: string;
  nonRetryable?: boolean;
  message: string;
  /** The child workflow or activity the link is about. */
  about?: string;
}

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

/** What `debug` found about a run and its children, and what to do. */
export interface RunDiagnosis {
  runId: string;
  workflows: WorkflowDiagnosis[];
  /** Whether some worker polls the run's task queue (only asked for running runs). */
  workerPolling?: boolean;
  advice: { why: string; commands: string[] }[];
}

function iso(t: Timestamp): string | undefined {
  if (!t?.seconds) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

function decode(p: Payload | null | undefined): unknown {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(p as never);
  } catch {
    return '(undecodable payload)';
  }
}

/** A heartbeat checkpoint (`{done, outageSince?, lastError?}`) in a line; other details as short JSON. */
export function describeHeartbeat(details: unknown): string | undefined {
  if (details === undefined || details === null) return undefined;
  const cp = details as { done?: unknown; outageSince?: unknown; lastError?: unknown };
  if (typeof details === 'object' && Array.isArray(cp.done)) {
    const outcomes = cp.done.map((d) => (Array.isArray(d) ? (d[1] as { ok?: boolean } | undefined) : undefined));
    const ok = outcomes.filter((o) => o?.ok === true).length;
    const parts = [`${cp.done.length} requests checkpointed (${ok} ok, ${cp.done.length - ok} failed for their sample)`];
    if (typeof cp.outageSince === 'number') parts.push(`endpoint failing since ${new Date(cp.outageSince).toISOString()}`);
    if (cp.lastError) parts.push(`last error: ${String(cp.lastError)}`);
    return parts.join('; ');
  }
  const s = JSON.stringify(details);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** A failure and its causes, outermost first. */
export function failureChain(f: Failure | null | undefined): FailureLink[] {
  const out: FailureLink[] = [];
  for (let cur = f, depth = 0; cur && depth < 12; cur = cur.cause, depth++) {
    const link: FailureLink = { kind: 'Failure', message: cur.message ?? '' };
    if (cur.applicationFailureInfo) {
      link.kind = 'ApplicationFailure';
      if (cur.applicationFailureInfo.type) link.type = cur.applicationFailureInfo.type;
      if (cur.applicationFailureInfo.nonRetryable) link.nonRetryable = true;
    } else if (cur.childWorkflowExecutionFailureInfo) {
      const c = cur.childWorkflowExecutionFailureInfo;
      link.kind = 'ChildWorkflowFailure';
      link.about = `child ${c.workflowExecution?.workflowId ?? '?'} (${c.workflowType?.name ?? '?'})`;
    } else if (cur.activityFailureInfo) {
      const a = cur.activityFailureInfo;
      link.kind = 'ActivityFailure';
      link.about = `activity ${a.activityId ?? '?'} (${a.activityType?.name ?? '?'})`;
    } else if (cur.timeoutFailureInfo) {
      link.kind = 'TimeoutFailure';
      link.type = temporal.api.enums.v1.TimeoutType[cur.timeoutFailureInfo.timeoutType ?? 0];
    } else if (cur.canceledFailureInfo) {
      link.kind = 'CancelledFailure';
    } else if (cur.terminatedFailureInfo) {
      link.kind = 'TerminatedFailure';
    } else if (cur.serverFailureInfo) {
      link.kind = 'ServerFailure';
    }
    out.push(link);
  }
  return out;
}

function renderChain(chain: FailureLink[], indent: string): string[] {
  return chain.map((l, i) => {
    const head = `${l.kind}${l.type ? ` ${l.type}` : ''}${l.nonRetryable ? ' (non-retryable)' : ''}${l.about ? ` [${l.about}]` : ''}`;
    return `${indent}${i === 0 ? '' : '<- '}${head}: ${l.message}`;
  });
}

/** Reads one workflow's failures from its history and its pending work from describe. */
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
        ...(hb ? { heartbeat: describeHeartbeat(decode(hb)) } : {}),
      });
    }
    if (type === 'WorkflowExecutionSignaled') {
      const a = e.workflowExecutionSignaledEventAttributes;
      if (a?.signalName === 'armProgress') {
        const [arm, report] = (a.input?.payloads ?? []).map(decode) as [string, ArmReport];
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

function pendingOf(raw: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse): PendingActivity[] {
  return (raw.pendingActivities ?? []).map((p) => ({
    activityId: p.activityId ?? '',
    activityType: p.activityType?.name ?? '',
    state: (temporal.api.enums.v1.PendingActivityState[p.state ?? 0] ?? String(p.state)).replace(/^PENDING_ACTIVITY_STATE_/, ''),
    paused: !!p.paused || p.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED,
    attempt: p.attempt ?? 0,
    maximumAttempts: p.maximumAttempts ?? 0,
    ...(p.lastFailure ? { lastFailure: failureChain(p.lastFailure) } : {}),
    ...(iso(p.lastAttemptCompleteTime) ? { lastFailureAt: iso(p.lastAttemptCompleteTime) } : {}),
    ...(iso(p.nextAttemptScheduleTime) ? { nextAttemptAt: iso(p.nextAttemptScheduleTime) } : {}),
    ...(iso(p.lastHeartbeatTime) ? { lastHeartbeatAt: iso(p.lastHeartbeatTime) } : {}),
    ...(p.heartbeatDetails?.payloads?.[0] ? { heartbeat: describeHeartbeat(decode(p.heartbeatDetails.payloads[0])) } : {}),
  }));
}

async function diagnoseWorkflow(client: Client, workflowId: string): Promise<WorkflowDiagnosis> {
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
    pendingActivities: pendingOf(d.raw),
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

/** Quotes a shell word when it needs it (activity ids hold `#` and `+`). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The endpoint a request failure names: `judge http://host/v1 model "m": 404 ...`. */
export function endpointOf(message: string): { role: string; baseURL: string; model: string; status?: string } | undefined {
  const m = /(judge|arm \S+) (\S+) model "([^"]*)"(?:: (\d{3})\b)?/.exec(message);
  return m ? { role: m[1]!, baseURL: m[2]!, model: m[3]!, ...(m[4] ? { status: m[4] } : {}) } : undefined;
}

const FATAL_TYPES = ['FatalEndpointError', 'InvalidConfig'];

/** Picks what to do next from what was found, with exact commands. */
export function advise(runId: string, workflows: WorkflowDiagnosis[], polling?: boolean): RunDiagnosis['advice'] {
  const advice: RunDiagnosis['advice'] = [];
  const run = workflows[0]!;
  const links = workflows.flatMap((w) => [...w.failure, ...w.failedActivities.flatMap((a) => a.failure)]);
  const fatal = links.find((l) => l.type && FATAL_TYPES.includes(l.type)) ?? links.find((l) => /: (401|403|404)\b/.test(l.message));
  const closed = run.status !== 'RUNNING';
  if (fatal) {
    const ep = endpointOf(fatal.message);
    const field = ep ? (ep.role === 'judge' ? 'judge' : `arms[name=${ep.role.slice(4)}]`) : undefined;
    const what =
      fatal.type === 'InvalidConfig'
        ? 'the run\'s config is invalid'
        : ep
          ? `the ${ep.role} endpoint ${ep.baseURL} rejected model "${ep.model}"${ep.status ? ` with ${ep.status}` : ''} for good`
          : 'an endpoint rejected the requests for good';
    const fix =
      ep?.status === '401' || ep?.status === '403'
        ? `set the API key named by ${field}.apiKeyEnv`
        : ep
          ? `fix ${field}.model (or ${field}.baseURL) in the config: \`curl ${ep.baseURL.replace(/\/+$/, '')}/models\` lists what it serves`
          : 'fix the config';
    advice.push({
      why: `${what}; ${fix}, then start a new run that reuses every stored generation${closed ? '' : ' (once this run has failed)'}:`,
      commands: [`thought-probe resume ${runId} --config FIXED.yaml`],
    });
  }
  for (const w of workflows) {
    const open = w.workflowTaskFailures.filter((f) => !f.resolved);
    const nd = open.find((f) => f.nondeterminism);
    if (nd) {
      const reset =
        nd.resetEventId !== undefined && !nd.resetIsLast
          ? `--event-id ${nd.resetEventId}`
          : '--type LastWorkflowTask';
      advice.push({
        why:
          `${w.workflowId} is stuck: the workflow code the workers run no longer matches its history at event ${nd.nondeterminism!.eventId ?? '?'}. ` +
          'Either deploy code that replays it (revert the change, or guard it with patched()), check with replay, and restart the workers: the stuck task is retried and the run continues; ' +
          `or reset it to the last workflow task before that event${nd.resetEventId !== undefined ? ` (event ${nd.resetEventId})` : ''}, so that the new code takes over from there (later activities are scheduled again; stored generations are reused):`,
        commands: [
          `thought-probe replay --run ${runId}`,
          `temporal workflow reset --workflow-id ${shellWord(w.workflowId)} ${reset} --reason ${shellWord('workflow code changed')}`,
        ],
      });
    } else if (open.length) {
      advice.push({
        why: `${w.workflowId}: its workflow code throws (${open[0]!.message.slice(0, 200)}); fix it and restart the workers (\`thought-probe worker\`), the task is retried:`,
        commands: [`thought-probe replay --run ${runId}`],
      });
    }
    for (const p of w.pendingActivities.filter((a) => a.paused)) {
      advice.push({ why: `activity ${p.activityId} of ${w.workflowId} is paused; once its endpoint works, unpause it:`, commands: [`temporal activity unpause --workflow-id ${shellWord(w.workflowId)} --activity-id ${shellWord(p.activityId)}`] });
    }
    const retrying = w.pendingActivities.filter((a) => !a.paused && a.lastFailure && a.attempt > 1);
    if (retrying.length) {
      // Name the endpoint of an activity that failed on it; a worker shutdown says nothing about endpoints.
      const onEndpoint = retrying.find((a) => endpointOf(a.lastFailure![0]!.message)) ?? retrying[0]!;
      const ep = endpointOf(onEndpoint.lastFailure![0]!.message);
      advice.push({
        why: `${retrying.length} activities of ${w.workflowId} are retrying (${onEndpoint.activityId} at attempt ${onEndpoint.attempt}); Temporal retries them until the endpoint answers (no work is lost) — wait, and check the endpoint${ep ? ` ${ep.baseURL}` : ''}:`,
        commands: [ep ? `curl ${ep.baseURL.replace(/\/+$/, '')}/models` : `thought-probe status ${runId}`],
      });
    }
  }
  const paused = workflows.flatMap((w) => w.pausedArms);
  if (paused.length && !closed) {
    advice.push({
      why: `arm ${paused.map((p) => `${p.arm} (${p.endpoint} down since ${p.since})`).join(', ')} exceeded its outage budget and is paused with its work kept; once the endpoint is back:`,
      commands: [`thought-probe resume ${runId}`],
    });
  }
  if (!closed && polling === false) {
    advice.push({ why: `no worker polls task queue ${run.taskQueue}; start one:`, commands: ['thought-probe worker'] });
  }
  if (advice.length === 0) {
    if (run.status === 'COMPLETED') advice.push({ why: 'the run completed; its report:', commands: [`thought-probe result ${runId}`] });
    else if (run.status === 'RUNNING') advice.push({ why: 'nothing is wrong that Temporal shows; follow it:', commands: [`thought-probe status ${runId}`] });
    else advice.push({ why: `the run is ${run.status}; start a new run that reuses its stored work:`, commands: [`thought-probe resume ${runId}`] });
  }
  return advice;
}

/** Collects the run's and its children's state from Temporal. */
export async function diagnoseRun(client: Client, runId: string): Promise<RunDiagnosis> {
  const workflows: WorkflowDiagnosis[] = [];
  const queue = [runId];
  const seen = new Set<string>();
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const w = await diagnoseWorkflow(client, id).catch((e: Error) => {
      if (id === runId) runNotFound(runId)(e);
      if (e.name === 'WorkflowNotFoundError') return undefined;
      throw e;
    });
    if (!w) continue;
    workflows.push(w);
    queue.push(...w.children);
  }
  const polling = workflows[0]!.status === 'RUNNING' ? await workerPolling(client, workflows[0]!.taskQueue) : undefined;
  return { runId, workflows, ...(polling !== undefined ? { workerPolling: polling } : {}), advice: advise(runId, workflows, polling) };
}

const MAX_LISTED = 5;

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
      const ep = endpointOf(l.message);
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

/** `thought-probe debug RUN_ID` (its arguments and options are in ./commands, which loads this module to run it). */
export async function debugCommand(runId: string, opts: { json?: boolean }): Promise<void> {
  const client = await connectClient();
  const d = await diagnoseRun(client, runId);
  if (opts.json) process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
  else process.stdout.write(`${renderDiagnosis(d)}\n  ${uiLink(client.options.namespace, runId)}\n`);
}

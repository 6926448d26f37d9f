/**
 * Reads the nondeterminism errors of Temporal's Core SDK (`[TMPRL1100] Nondeterminism error: ...`) against the
 * history they happened in: which event the replay stopped at, the command the history recorded there, and the
 * command the current workflow code produced instead.
 */
import { temporal } from '@temporalio/proto';
import type { History } from './files';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A nondeterminism error, explained. */
export interface NondeterminismReport {
  /** The history event the replay could not match, when it can be told. */
  eventId?: number;
  /** Its type, in Core's spelling (`ActivityTaskScheduled`). */
  eventType?: string;
  /** The command the history recorded at that event (what the code was expected to do). */
  expected?: string;
  /** The command the code produced instead; `nothing` when it produced none. */
  produced?: string;
  /** The Core SDK's own message, without its wrapping. */
  coreMessage: string;
}

// Event type (Core's spelling) -> the command that records it.
const COMMAND_OF_EVENT: Record<string, string> = {
  ActivityTaskScheduled: 'ScheduleActivityTask',
  ActivityTaskCancelRequested: 'RequestCancelActivityTask',
  TimerStarted: 'StartTimer',
  TimerCanceled: 'CancelTimer',
  StartChildWorkflowExecutionInitiated: 'StartChildWorkflowExecution',
  SignalExternalWorkflowExecutionInitiated: 'SignalExternalWorkflowExecution',
  RequestCancelExternalWorkflowExecutionInitiated: 'RequestCancelExternalWorkflowExecution',
  MarkerRecorded: 'RecordMarker',
  UpsertWorkflowSearchAttributes: 'UpsertWorkflowSearchAttributes',
  WorkflowPropertiesModified: 'ModifyWorkflowProperties',
  WorkflowExecutionCompleted: 'CompleteWorkflowExecution',
  WorkflowExecutionFailed: 'FailWorkflowExecution',
  WorkflowExecutionCanceled: 'CancelWorkflowExecution',
  WorkflowExecutionContinuedAsNew: 'ContinueAsNewWorkflowExecution',
  NexusOperationScheduled: 'ScheduleNexusOperation',
};

// Core's machine names in "<machine> machine does not handle this event" -> the command that machine issued.
const COMMAND_OF_MACHINE: [RegExp, string][] = [
  [/^Local activity/i, 'RecordMarker (local activity)'],
  [/^Activity/i, 'ScheduleActivityTask'],
  [/^Timer/i, 'StartTimer'],
  [/^Child workflow/i, 'StartChildWorkflowExecution'],
  [/^Signal external/i, 'SignalExternalWorkflowExecution'],
  [/^Cancel external/i, 'RequestCancelExternalWorkflowExecution'],
  [/^Complete workflow/i, 'CompleteWorkflowExecution'],
  [/^Fail workflow/i, 'FailWorkflowExecution'],
  [/^Cancel workflow/i, 'CancelWorkflowExecution'],
  [/^Continue as new/i, 'ContinueAsNewWorkflowExecution'],
  [/^Change|^Patch/i, 'RecordMarker (patch)'],
  [/^Update/i, 'update response'],
  [/^Nexus/i, 'ScheduleNexusOperation'],
];

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED`, 10 or `ActivityTaskScheduled` -> `ActivityTaskScheduled`. */
export function eventTypeName(t: unknown): string {
  if (typeof t === 'number') t = temporal.api.enums.v1.EventType[t];
  const s = String(t ?? '');
  if (!s.startsWith('EVENT_TYPE_')) return s;
  return s
    .slice('EVENT_TYPE_'.length)
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

function attrsOf(e: HistoryEvent): Record<string, unknown> {
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
  return key ? ((e as Record<string, unknown>)[key] as Record<string, unknown>) : {};
}

/** A recorded command, described from its event: `ScheduleActivityTask judge, activity id 'x'`. */
export function describeRecordedCommand(e: HistoryEvent): string {
  const type = eventTypeName(e.eventType);
  const a = attrsOf(e);
  const cmd = COMMAND_OF_EVENT[type] ?? `(command of ${type})`;
  const name = (a.activityType as { name?: string } | undefined)?.name ?? (a.workflowType as { name?: string } | undefined)?.name;
  const parts = [cmd + (name ? ` ${name}` : '')];
  if (a.activityId) parts.push(`activity id '${String(a.activityId)}'`);
  if (a.timerId) parts.push(`timer id '${String(a.timerId)}'`);
  if (type === 'StartChildWorkflowExecutionInitiated' && a.workflowId) parts.push(`workflow id '${String(a.workflowId)}'`);
  if (type === 'SignalExternalWorkflowExecutionInitiated') {
    parts.push(`signal '${String(a.signalName ?? '')}' to '${String((a.workflowExecution as { workflowId?: string } | undefined)?.workflowId ?? '')}'`);
  }
  if (type === 'MarkerRecorded' && a.markerName) parts.push(`marker '${String(a.markerName)}'`);
  return parts.join(', ');
}

/** Core's message out of the SDK's wrapping (`... Details: Workflow activation completion failed: Failure { failure: Some(Failure { message: "..." ...`). */
export function coreMessageOf(message: string): string {
  const quoted = /message: "((?:[^"\\]|\\.)*)"/.exec(message);
  const inner = quoted ? quoted[1]!.replace(/\\(.)/g, '$1') : message;
  const i = inner.indexOf('[TMPRL1100]');
  return (i >= 0 ? inner.slice(i) : inner).trim();
}

function findEvent(history: History | undefined, pred: (e: HistoryEvent, type: string, a: Record<string, unknown>) => boolean): HistoryEvent | undefined {
  return history?.events?.find((e) => pred(e, eventTypeName(e.eventType), attrsOf(e)));
}

function eventById(history: History | undefined, id: number): HistoryEvent | undefined {
  return history?.events?.find((e) => Number(e.eventId) === id);
}

/** Explains a nondeterminism error message against the history it came from. */
export function explainNondeterminism(message: string, history?: History): NondeterminismReport {
  const coreMessage = coreMessageOf(message);
  const body = coreMessage.replace(/^\[TMPRL1100\]\s*/, '').replace(/^Nondeterminism error:\s*/i, '');
  const report: NondeterminismReport = { coreMessage };
  const at = (e: HistoryEvent | undefined) => {
    if (!e) return;
    report.eventId = Number(e.eventId);
    report.eventType = eventTypeName(e.eventType);
    report.expected = describeRecordedCommand(e);
  };

  // "Activity id of scheduled event 'A' does not match activity id of activity command 'B'" (and type, child workflow id/type).
  let m = /^(Activity|Child workflow) (id|type) of scheduled event '(.*)' does not match .* command '(.*)'$/s.exec(body);
  if (m) {
    const [, kind, field, recorded, issued] = m as unknown as [string, string, string, string, string];
    const isActivity = kind === 'Activity';
    const event = findEvent(history, (_e, type, a) => {
      if (isActivity && type !== 'ActivityTaskScheduled') return false;
      if (!isActivity && type !== 'StartChildWorkflowExecutionInitiated') return false;
      if (field === 'id') return (isActivity ? a.activityId : a.workflowId) === recorded;
      return ((isActivity ? a.activityType : a.workflowType) as { name?: string } | undefined)?.name === recorded;
    });
    at(event);
    report.eventType ??= isActivity ? 'ActivityTaskScheduled' : 'StartChildWorkflowExecutionInitiated';
    const cmd = isActivity ? 'ScheduleActivityTask' : 'StartChildWorkflowExecution';
    report.expected ??= `${cmd}, ${isActivity ? 'activity' : 'workflow'} ${field} '${recorded}'`;
    report.produced = `${cmd}, ${isActivity ? 'activity' : 'workflow'} ${field} '${issued}'`;
    return report;
  }

  // "No command scheduled for event HistoryEvent(id: 7, ActivityTaskScheduled)": the code issued fewer commands.
  m = /No command scheduled for event HistoryEvent\(id: (\d+), (\w+)\)/.exec(body);
  if (m) {
    at(eventById(history, Number(m[1])));
    report.eventId = Number(m[1]);
    report.eventType ??= m[2]!;
    report.expected ??= COMMAND_OF_EVENT[m[2]!] ?? `(command of ${m[2]})`;
    report.produced = 'nothing (no command at this point)';
    return report;
  }

  // "Activity machine does not handle this event: HistoryEvent(id: 7, SignalExternalWorkflowExecutionInitiated)":
  // the code issued a command of another kind where the history has this event.
  m = /^(.*?) machine (?:does not|cannot) handle this event: HistoryEvent\(id: (\d+),? ?(\w+)?\)/s.exec(body);
  if (m) {
    at(eventById(history, Number(m[2])));
    report.eventId = Number(m[2]);
    if (m[3]) report.eventType ??= m[3];
    report.expected ??= m[3] ? COMMAND_OF_EVENT[m[3]] ?? `(command of ${m[3]})` : undefined;
    const machine = m[1]!.trim();
    report.produced = COMMAND_OF_MACHINE.find(([re]) => re.test(machine))?.[1] ?? `a command of the ${machine} machine`;
    return report;
  }

  // Anything else naming an event.
  m = /HistoryEvent\(id: (\d+),? ?(\w+)?\)/.exec(body);
  if (m) {
    at(eventById(history, Number(m[1])));
    report.eventId = Number(m[1]);
    if (m[2]) report.eventType ??= m[2];
  }
  m = /Change id (\S+) does not match expected id (\S+)/.exec(body);
  if (m) {
    report.expected = `RecordMarker (patch '${m[1]}')`;
    report.produced = `RecordMarker (patch '${m[2]}')`;
  }
  return report;
}

/** The report as indented lines: event, expected, produced, Core's message. */
export function renderNondeterminism(r: NondeterminismReport, indent = '  '): string[] {
  const lines: string[] = [];
  if (r.eventId !== undefined) lines.push(`${indent}at event ${r.eventId}${r.eventType ? ` ${r.eventType}` : ''}`);
  if (r.expected) lines.push(`${indent}expected (recorded in history): ${r.expected}`);
  if (r.produced) lines.push(`${indent}produced (current code):        ${r.produced}`);
  lines.push(`${indent}core: ${r.coreMessage}`);
  return lines;
}

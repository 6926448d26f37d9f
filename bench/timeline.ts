// Where a finished run's wall time went, read from its Temporal histories (the run's and each arm's): how long
// before the first arm activity started, how long from the last arm activity to the last arm's completion, how
// long writeArtifacts took, and the lane-seconds each endpoint's activities held (lanes x start-to-close) beside
// the lane-seconds it could have held (its cap x the time its arm ran). Part of the wide bench (bench/wide.ts),
// which adds the lane-seconds the simulated server was actually answering, so held minus busy is waiting inside
// activities, and cap minus held is time between batches. An arm that continued as new is read in its last
// execution only (the bench's runs are one chunk).
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type Event = temporal.api.history.v1.IHistoryEvent;

const ms = (t: Event['eventTime']) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

/** One run's phases, in milliseconds from its start, and lane-seconds held per activity type. */
export interface RunTimeline {
  makespanMs: number;
  /** Run start to the first arm activity's start (prepareRun, starting the arms, their first workflow task). */
  startMs: number;
  /** The last arm activity's end to the last arm's completion (their last workflow tasks and progress signals). */
  armEndMs: number;
  /** writeArtifacts, scheduled to completed (samples.jsonl, summary, report.md, report.html). */
  artifactsMs: number;
  /** The rest of the run's close: the last arm's completion to writeArtifacts' scheduling, and its end to the run's. */
  closeMs: number;
  /** Lane-seconds held by each activity type's batches, over all arms. */
  heldLaneSeconds: Record<string, number>;
  /** Activities per type. */
  activities: Record<string, number>;
  /** Workflow tasks over the run's and the arms' histories. */
  workflowTasks: number;
}

function decodeInput(e: Event): { lanes?: number } {
  const data = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0]?.data;
  if (!data) return {};
  try {
    return JSON.parse(Buffer.from(data).toString('utf8')) as { lanes?: number };
  } catch {
    return {}; // an encrypted payload: lanes unknown
  }
}

async function events(client: Client, workflowId: string): Promise<Event[]> {
  return ((await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) as Event[];
}

/** Reads the timeline of run `runId` and its arms `arms` (names). */
export async function runTimeline(client: Client, runId: string, arms: string[]): Promise<RunTimeline> {
  const run = await events(client, runId);
  const t0 = ms(run[0]!.eventTime);
  const t1 = ms(run[run.length - 1]!.eventTime);
  const held: Record<string, number> = {};
  const count: Record<string, number> = {};
  let firstStart = Infinity;
  let lastEnd = 0;
  let tasks = run.filter((e) => e.workflowTaskStartedEventAttributes).length;
  for (const arm of arms) {
    const ev = await events(client, `${runId}/arm/${arm}`);
    tasks += ev.filter((e) => e.workflowTaskStartedEventAttributes).length;
    const scheduled = new Map<string, { type: string; lanes: number }>();
    const started = new Map<string, number>();
    for (const e of ev) {
      const id = String(e.eventId);
      if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', lanes: decodeInput(e).lanes ?? 1 });
      const st = e.activityTaskStartedEventAttributes;
      if (st) {
        started.set(String(st.scheduledEventId), ms(e.eventTime));
        firstStart = Math.min(firstStart, ms(e.eventTime));
      }
      const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
      if (done) {
        const s = scheduled.get(String(done.scheduledEventId));
        const begun = started.get(String(done.scheduledEventId));
        if (!s || begun === undefined) continue;
        held[s.type] = (held[s.type] ?? 0) + (s.lanes * (ms(e.eventTime) - begun)) / 1000;
        count[s.type] = (count[s.type] ?? 0) + 1;
        lastEnd = Math.max(lastEnd, ms(e.eventTime));
      }
    }
  }
  const armsDone = Math.max(...run.filter((e) => e.childWorkflowExecutionCompletedEventAttributes).map((e) => ms(e.eventTime)), lastEnd);
  const artScheduled = run.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'writeArtifacts');
  const artId = artScheduled ? String(artScheduled.eventId) : undefined;
  const artDone = run.find((e) => e.activityTaskCompletedEventAttributes && String(e.activityTaskCompletedEventAttributes.scheduledEventId) === artId);
  const artifactsMs = artScheduled && artDone ? ms(artDone.eventTime) - ms(artScheduled.eventTime) : 0;
  return {
    makespanMs: t1 - t0,
    startMs: Number.isFinite(firstStart) ? firstStart - t0 : 0,
    armEndMs: armsDone - lastEnd,
    artifactsMs,
    closeMs: t1 - armsDone - artifactsMs,
    heldLaneSeconds: held,
    activities: count,
    workflowTasks: tasks,
  };
}

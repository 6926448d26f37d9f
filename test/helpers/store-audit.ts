// Counting a run whatever its store: the entries the store holds (read through src/store, and for PostgreSQL also
// straight from its entries table), the records of a samples.jsonl (a run's or one `thought-probe export` wrote),
// the requests the simulated servers saw, and which worker ran each activity (from the histories).
import type { Client as TemporalClient } from '@temporalio/client';
import { Client } from 'pg';
import type { SimStats } from '../../src/sim';
import { STORE_KINDS, type RunStore, type StoreKind } from '../../src/store/types';
import { armWorkflowId } from '../../src/workflows/api';
import { eventTypeName } from '../../src/replay/nondeterminism';

/** Entries of a store per arm and kind, and how many of them repeat a key (0: nothing stored twice). */
export interface StoreCounts {
  perArm: Record<string, Record<StoreKind, number>>;
  total: Record<StoreKind, number>;
  repeatedKeys: number;
}

/** Counts a run's store through the RunStore interface (any backend). */
export async function countStore(store: RunStore, arms: string[]): Promise<StoreCounts> {
  const zero = () => Object.fromEntries(STORE_KINDS.map((k) => [k, 0])) as Record<StoreKind, number>;
  const out: StoreCounts = { perArm: {}, total: zero(), repeatedKeys: 0 };
  for (const arm of arms) {
    out.perArm[arm] = zero();
    for (const kind of STORE_KINDS) {
      const entries = await store.all<{ key: string }>(arm, kind);
      out.perArm[arm]![kind] = entries.length;
      out.total[kind] += entries.length;
      out.repeatedKeys += entries.length - new Set(entries.map((e) => e.key)).size;
    }
  }
  return out;
}

/** Rows of the PostgreSQL store's entries table for a run, per kind (over all arms) and per arm and kind. */
export async function countEntryRows(url: string, runId: string): Promise<{ perKind: Record<string, number>; perArm: Record<string, Record<string, number>> }> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ arm: string; kind: string; n: string }>(
      'SELECT arm, kind, count(*)::text AS n FROM entries WHERE run_id = $1 GROUP BY arm, kind ORDER BY arm, kind',
      [runId],
    );
    const perKind: Record<string, number> = {};
    const perArm: Record<string, Record<string, number>> = {};
    for (const r of rows) {
      perKind[r.kind] = (perKind[r.kind] ?? 0) + Number(r.n);
      (perArm[r.arm] ??= {})[r.kind] = Number(r.n);
    }
    return { perKind, perArm };
  } finally {
    await db.end();
  }
}

export { auditSamples, type SamplesAudit } from './fault-audit';

/** Requests the simulated servers saw for some models (several servers' stats summed). */
export function requestsOf(stats: SimStats[], models: string[]): { requests: number; completed: number; errors: number; inFlight: number } {
  const out = { requests: 0, completed: 0, errors: 0, inFlight: 0 };
  for (const s of stats) {
    for (const m of models) {
      const x = s.models[m];
      if (!x) continue;
      out.requests += x.requests;
      out.completed += x.completed;
      out.errors += x.errors;
      out.inFlight += x.inFlight;
    }
  }
  return out;
}

/** One activity of a history: its type, queue, id, and the worker that ran its last attempt. */
export interface ActivityRun {
  workflowId: string;
  type: string;
  taskQueue: string;
  activityId: string;
  /** From its ActivityTaskStarted event (the worker's identity); undefined if it never started. */
  identity?: string;
  attempt?: number;
}

/** What the histories of a run and its arms say about who ran what. */
export interface RunHistories {
  activities: ActivityRun[];
  /** Identities that ran the workflow tasks of the run and of its arms. */
  workflowTaskIdentities: Set<string>;
}

/** Reads the histories of a run and its arm children: every activity with the worker identity of its started event. */
export async function readHistories(client: TemporalClient, runId: string, arms: string[]): Promise<RunHistories> {
  const out: RunHistories = { activities: [], workflowTaskIdentities: new Set() };
  for (const workflowId of [runId, ...arms.map((a) => armWorkflowId(runId, a))]) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = new Map<string, ActivityRun>();
    for (const e of history.events ?? []) {
      const type = eventTypeName(e.eventType);
      if (type === 'ActivityTaskScheduled') {
        const a = e.activityTaskScheduledEventAttributes!;
        const run: ActivityRun = { workflowId, type: a.activityType?.name ?? '?', taskQueue: a.taskQueue?.name ?? '?', activityId: a.activityId ?? '?' };
        scheduled.set(String(e.eventId), run);
        out.activities.push(run);
      } else if (type === 'ActivityTaskStarted') {
        const a = e.activityTaskStartedEventAttributes!;
        const run = scheduled.get(String(a.scheduledEventId));
        if (run) {
          run.identity = a.identity ?? undefined;
          run.attempt = a.attempt ?? undefined;
        }
      } else if (type === 'WorkflowTaskStarted') {
        const id = e.workflowTaskStartedEventAttributes?.identity;
        if (id) out.workflowTaskIdentities.add(id);
      }
    }
  }
  return out;
}

/** The identities that ran activities of a type (in some workflows), with how many each. */
export function whoRan(h: RunHistories, type: string, workflowIds?: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of h.activities) {
    if (a.type !== type || (workflowIds && !workflowIds.includes(a.workflowId))) continue;
    const id = a.identity ?? '(never started)';
    out[id] = (out[id] ?? 0) + 1;
  }
  return out;
}

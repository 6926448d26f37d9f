import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NamedHistory } from './files';
import { explainNondeterminism, renderNondeterminism, type NondeterminismReport } from './nondeterminism';

/** Where the replayer takes workflow code from: a module to bundle, or a bundle already made. */
export type WorkflowSource = { workflowsPath: string } | { workflowBundle: WorkflowBundle };

/** The outcome of replaying one history. */
export interface ReplayOutcome {
  workflowId: string;
  source: string;
  ok: boolean;
  /** `nondeterminism` (the code issues other commands than the history recorded) or `failure` (anything else). */
  kind?: 'nondeterminism' | 'failure';
  /** The error's message as the SDK gave it. */
  message?: string;
  nondeterminism?: NondeterminismReport;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} };

/**
 * Replays histories, each under its real workflow id, with the given workflow code, one at a time in one
 * replay worker, decoding payloads with `dataConverter` (the payload codec of encrypted histories); returns an
 * outcome per history, in order. Does not throw for a failed replay.
 */
export async function replayHistories(items: NamedHistory[], code: WorkflowSource, dataConverter?: DataConverter): Promise<ReplayOutcome[]> {
  const out: ReplayOutcome[] = [];
  const workflowBundle = 'workflowBundle' in code ? code.workflowBundle : await bundleWorkflowCode({ workflowsPath: code.workflowsPath, logger: quiet as never });
  const results = Worker.runReplayHistories(
    { workflowBundle, ...(dataConverter ? { dataConverter } : {}) },
    items.map((i) => ({ workflowId: i.workflowId, history: i.history })),
  );
  let n = 0;
  for await (const r of results) {
    const item = items[n++]!;
    if (!r.error) {
      out.push({ workflowId: r.workflowId, source: item.source, ok: true });
      continue;
    }
    const message = r.error.message;
    const isNondeterminism = r.error.name === 'DeterminismViolationError' || /TMPRL1100|Nondeterminism/i.test(message);
    out.push({
      workflowId: r.workflowId,
      source: item.source,
      ok: false,
      kind: isNondeterminism ? 'nondeterminism' : 'failure',
      message,
      ...(isNondeterminism ? { nondeterminism: explainNondeterminism(message, item.history) } : {}),
    });
  }
  return out;
}

/** `OK <id>` or `FAIL <id>` with the event, the expected and the produced command, and what to do. */
export function renderReplayOutcome(o: ReplayOutcome): string {
  if (o.ok) return `OK ${o.workflowId}`;
  const lines = [`FAIL ${o.workflowId} (${o.source}): ${o.kind === 'nondeterminism' ? 'nondeterminism' : 'replay failed'}`];
  if (o.nondeterminism) {
    lines.push(...renderNondeterminism(o.nondeterminism));
    lines.push(
      '  the current workflow code does not do what this history recorded: guard the change with patched()/deprecatePatch(),',
      '  or give the new code a new workflow type (see docs/replay.md)',
    );
  } else {
    lines.push(`  ${o.message ?? ''}`);
  }
  return lines.join('\n');
}

/** The workflow ids of the children a history started, in order. */
export function childWorkflowIds(items: NamedHistory['history']): string[] {
  const ids: string[] = [];
  for (const e of items.events ?? []) {
    const id = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (id && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** A run's history and, with children, its children's (recursively), from the server. */
export async function fetchRunHistories(client: Client, workflowId: string, children: boolean): Promise<NamedHistory[]> {
  const out: NamedHistory[] = [];
  const queue = [workflowId];
  const seen = new Set<string>();
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const executions = await fetchExecutions(client, id);
    executions.forEach((history, i) => out.push({ workflowId: id, history, source: 'server', ...(executions.length > 1 ? { execution: i + 1 } : {}) }));
    if (children) for (const history of executions) queue.push(...childWorkflowIds(history));
  }
  return out;
}

/** Every execution of a workflow id, first to last: one, or the chain of an arm that continued as new in chunks. */
export async function fetchExecutions(client: Client, workflowId: string): Promise<NamedHistory['history'][]> {
  const first = await client.workflow.getHandle(workflowId).fetchHistory();
  if (!first.events?.[first.events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes) {
    // The latest execution did not continue; it may still be a later one of a chain.
    const started = first.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started?.continuedExecutionRunId) return [first];
  }
  const described = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = described.raw.workflowExecutionInfo?.firstRunId ?? undefined;
  const out: NamedHistory['history'][] = [];
  while (runId) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    out.push(history);
    runId = history.events?.[history.events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return out;
}

import { setMaxListeners } from 'node:events';
import { Context } from '@temporalio/activity';
import { OutageBudgetExceededError, type EndpointRef, type ProbeError } from '../errors';
import { classifyActivityError } from './classify';

/** What a batch checkpoints in its heartbeat details. */
export interface BatchCheckpoint<R> {
  done?: [number, ItemOutcome<R>][];
  outageSince?: number;
  lastError?: string;
}

/** The outcome of one request of a batch: its result, or the error recorded for that sample. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: string };

/** How a batch whose inputs are still being made by other activities waits for them. */
export interface LaneWait<I> {
  /** Whether an item's inputs exist, so it can start now. */
  ready(item: I): boolean;
  /** Resolves when readiness may have changed (something was stored, a poll interval passed, or cancellation). */
  changed(signal: AbortSignal): Promise<void>;
  /** The batch ends, leaving the items still not ready undone, once nothing in it has started or finished for this long. */
  giveUpMs: number;
}

/**
 * Runs the requests of a batch with `lanes` in flight: a lane takes the next request as soon as its last one
 * finishes. Each finished request is checkpointed in the heartbeat details, so a retry of the activity redoes
 * only unfinished ones. A request's work classifies its model call's errors (`callEndpoint`); what else it
 * throws is classified here. An error for one sample (a 400) is that item's outcome; any other stops new
 * requests, lets the ones in flight finish (and be checkpointed), then fails the activity: retried if the error
 * is retryable, for good if not.
 * With `wait`, a lane takes the first pending item that is ready, waits while none is, and the result has
 * undefined for the items that never became ready.
 */
export async function runLanes<I, R>(
  items: I[],
  lanes: number,
  ep: EndpointRef,
  work: (item: I, index: number, signal: AbortSignal) => Promise<R>,
  maxOutageSeconds?: number,
  wait?: LaneWait<I>,
): Promise<(ItemOutcome<R> | undefined)[]> {
  const ctx = Context.current();
  const previous = (ctx.info.heartbeatDetails as BatchCheckpoint<R> | undefined) ?? {};
  const done = new Map<number, ItemOutcome<R>>(previous.done ?? []);
  // When the endpoint started failing, carried from attempt to attempt, so status can say "down since".
  let outageSince = previous.outageSince;
  let lastError = previous.lastError;
  if (outageSince !== undefined && maxOutageSeconds !== undefined && Date.now() - outageSince > maxOutageSeconds * 1000) {
    throw new OutageBudgetExceededError(ep, outageSince, maxOutageSeconds, lastError);
  }
  const pending = items.map((_, i) => i).filter((i) => !done.has(i));
  // Each lane's request listens for the activity's cancellation while it runs.
  setMaxListeners(Math.max(10, lanes * 2 + 10), ctx.cancellationSignal);
  let failure: ProbeError | undefined;
  const beat = () => ctx.heartbeat({ done: [...done.entries()], outageSince, lastError } satisfies BatchCheckpoint<R>);
  beat();
  // Heartbeat often enough that a dead worker is noticed within the heartbeat timeout; the SDK throttles sends.
  const ticker = setInterval(beat, 1000);
  let lastMove = Date.now();
  const lane = async () => {
    for (;;) {
      if (failure || ctx.cancellationSignal.aborted) return;
      if (pending.length === 0) return;
      const at = wait ? pending.findIndex((p) => wait.ready(items[p]!)) : 0;
      if (at < 0) {
        if (Date.now() - lastMove > wait!.giveUpMs) return;
        await wait!.changed(ctx.cancellationSignal);
        continue;
      }
      const i = pending.splice(at, 1)[0]!;
      lastMove = Date.now();
      try {
        done.set(i, { ok: true, value: await work(items[i]!, i, ctx.cancellationSignal) });
        outageSince = undefined;
        lastMove = Date.now();
      } catch (err) {
        // A cancelled activity (worker shutdown, run closing) says nothing about the endpoint.
        if (ctx.cancellationSignal.aborted) return;
        const c = classifyActivityError(err, `${ctx.info.activityType} (${ep.role})`);
        if (c.behaviour === 'sample') {
          done.set(i, { ok: false, error: c.message });
          lastMove = Date.now();
        } else failure ??= c;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, pending.length)) }, lane));
  } finally {
    clearInterval(ticker);
  }
  // Only an endpoint that keeps failing counts towards its outage budget.
  if (failure?.retryable && failure.facts.endpoint) {
    outageSince ??= Date.now();
    lastError = failure.message;
  }
  // The SDK sends these last details with the failure, so the next attempt resumes from them.
  beat();
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('activity cancelled');
  if (failure) throw failure;
  return items.map((_, i) => done.get(i));
}

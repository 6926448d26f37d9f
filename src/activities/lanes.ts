import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { classify, toFailure, type Classified, type EndpointRef } from './errors';

/** The outcome of one request of a batch: its result, or the error recorded for that sample. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: string };

/**
 * Runs the requests of a batch with `lanes` in flight: a lane takes the next request as soon as its last one
 * finishes. Each finished request is checkpointed in the heartbeat details, so a retry of the activity redoes
 * only unfinished ones. A retryable failure stops new requests, lets the ones in flight finish (and be
 * checkpointed), then fails the activity for Temporal to retry; a fatal one fails it for good.
 */
export async function runLanes<I, R>(
  items: I[],
  lanes: number,
  ep: EndpointRef,
  work: (item: I, index: number, signal: AbortSignal) => Promise<R>,
): Promise<ItemOutcome<R>[]> {
  const ctx = Context.current();
  const previous = (ctx.info.heartbeatDetails as { done?: [number, ItemOutcome<R>][] } | undefined)?.done ?? [];
  const done = new Map<number, ItemOutcome<R>>(previous);
  const pending = items.map((_, i) => i).filter((i) => !done.has(i));
  let failure: Exclude<Classified, { kind: 'sample' }> | undefined;
  let dirty = true;
  const beat = () => {
    ctx.heartbeat({ done: [...done.entries()] });
    dirty = false;
  };
  beat();
  // Heartbeat often enough that a dead worker is noticed within the heartbeat timeout; the SDK throttles sends.
  const ticker = setInterval(() => (dirty ? beat() : ctx.heartbeat({ done: [...done.entries()] })), 1000);
  const lane = async () => {
    for (;;) {
      if (failure || ctx.cancellationSignal.aborted) return;
      const i = pending.shift();
      if (i === undefined) return;
      try {
        done.set(i, { ok: true, value: await work(items[i]!, i, ctx.cancellationSignal) });
      } catch (err) {
        if (err instanceof ApplicationFailure) {
          failure ??= { kind: err.nonRetryable ? 'fatal' : 'retry', message: err.message, type: err.type ?? 'Error' } as Classified as Exclude<Classified, { kind: 'sample' }>;
          continue;
        }
        const c = classify(err, ep);
        if (c.kind === 'sample') done.set(i, { ok: false, error: c.message });
        else failure ??= c;
      }
      dirty = true;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, pending.length)) }, lane));
  } finally {
    clearInterval(ticker);
  }
  beat();
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('activity cancelled');
  if (failure) throw toFailure(failure);
  return items.map((_, i) => done.get(i)!);
}

import type { WorkItem } from '../../experiment/plan';

/** One planned batch: how many lanes it holds and how many requests it carries. */
export interface BatchShape {
  lanes: number;
  items: number;
}

/**
 * Cuts `ready` requests into batches within `free` slots of an endpoint with `cap` slots in all. Each batch holds at
 * most half the endpoint's slots, so one finishing never leaves the endpoint idle while it reschedules.
 */
export function shapeBatches(free: number, ready: number, itemsPerLane: number, cap: number, maxRequestsPerActivity: number): BatchShape[] {
  const out: BatchShape[] = [];
  const max = Math.max(1, maxRequestsPerActivity);
  const lanesPerActivity = Math.max(1, Math.ceil(cap / 2));
  let slots = free;
  let left = ready;
  while (slots > 0 && left > 0) {
    const lanes = Math.min(slots, lanesPerActivity, left, max);
    const items = Math.min(left, lanes * itemsPerLane, max);
    out.push({ lanes, items });
    slots -= lanes;
    left -= items;
  }
  return out;
}

/**
 * Requests per lane of a judge batch. Judge results feed nothing downstream, so its batches may be long: fewer
 * round trips per request. `slots` is what the batch sizing divides by (all of the arm's judge slots once they are
 * lent, so the last judgments spread over every lane; the free ones before).
 */
export function judgeItemsPerLane(ready: number, slots: number): number {
  return Math.max(1, Math.min(16, Math.floor(ready / slots)));
}

/**
 * Requests per lane of a generation batch. The first batches are small so the judge gets work early; then they
 * double every two batches, because each activity costs a round trip and the arm, not only the judge, must keep up.
 * Judging ahead, the judge does not wait for a batch to end, so batches start at a few requests per lane.
 */
export function generationItemsPerLane(batchesDone: number, judgeAhead: boolean, judgeBacklog: number, judgeSlots: number): number {
  const ramp = 2 ** Math.floor(batchesDone / 2) * (judgeAhead ? 4 : 1);
  return Math.max(1, Math.min(8, Math.max(ramp, Math.floor(judgeBacklog / Math.max(1, judgeSlots)))));
}

/** Deals items round-robin into batches of the given sizes, so every batch gets some of the first ones. */
export function dealRoundRobin(items: WorkItem[], shapes: BatchShape[]): WorkItem[][] {
  const hands: WorkItem[][] = shapes.map(() => []);
  let next = 0;
  for (const it of items) {
    while (hands[next]!.length >= shapes[next]!.items) next = (next + 1) % shapes.length;
    hands[next]!.push(it);
    next = (next + 1) % shapes.length;
  }
  return hands;
}

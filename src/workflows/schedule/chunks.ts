import type { Condition } from '../../experiment/conditions';
import { planCounts } from '../../experiment/plan';
import type { ArmProgress, SampleFailure } from './types';

/** Judgments per chunk when the config does not say: an arm's history stays near 1,400 events and 3.5 MB (measured: about 0.23 events and 560 bytes per judgment). */
export const JUDGMENTS_PER_CHUNK = 6_144;

/** What the earlier chunks of an arm did, carried into the next one when the arm continues as new. */
export interface ArmCarry {
  /** The judge slots the arm held when it continued (the run's slot ledger counts them as the arm's). */
  judgeSlots: number;
  batches: number;
  failures: SampleFailure[];
  done: { thought: number; suffix: number; judge: number };
  rewards: Record<string, { judged: number; valid: number; sum: number }>;
  /** When the arm's first execution began (epoch ms), for spacing its progress signals by age. */
  startedAt?: number;
}

/** Where an arm that continues as new in chunks stands: its next chunk, and what the earlier chunks carried. */
export interface ArmChunk {
  /** Position in the arm's prefixes of the chunk's first prefix. */
  start: number;
  carried: ArmCarry;
}

/** How many prefixes one chunk of an arm covers. */
export function prefixesPerChunk(samples: number, conditions: readonly Condition[], configured?: number): number {
  return configured ?? Math.max(1, Math.floor(JUDGMENTS_PER_CHUNK / Math.max(1, samples * conditions.length)));
}

/** What nothing carried looks like (the first chunk). */
export function emptyCarry(judgeSlots: number): ArmCarry {
  return { judgeSlots, batches: 0, failures: [], done: { thought: 0, suffix: 0, judge: 0 }, rewards: {} };
}

/** The carry after one more chunk: the earlier chunks' plus this one's progress, failures and batches. */
export function carryForward(before: ArmCarry, chunk: ArmProgress, failures: SampleFailure[], batches: number, judgeSlots: number): ArmCarry {
  const rewards = { ...before.rewards };
  for (const [c, r] of Object.entries(chunk.rewards)) {
    const b = rewards[c] ?? { judged: 0, valid: 0, sum: 0 };
    // Rewards are 0 or 1, so the sum is the mean times the valid count, rounded back to the integer it was.
    rewards[c] = { judged: b.judged + r.judged, valid: b.valid + r.valid, sum: b.sum + Math.round((r.mean ?? 0) * r.valid) };
  }
  return {
    judgeSlots,
    batches: before.batches + batches,
    failures: [...before.failures, ...failures],
    // Judge progress counts failed samples too; the carry keeps judgments and failures apart.
    done: { thought: before.done.thought + chunk.thought.done, suffix: before.done.suffix + chunk.suffix.done, judge: before.done.judge + chunk.judge.done - failures.length },
    rewards,
  };
}

/** The arm's progress over all its chunks: the carried counts plus the running chunk's, against the arm's totals. */
export function armProgress(carried: ArmCarry, chunk: ArmProgress, prefixes: number, samples: number, conditions: readonly Condition[]): ArmProgress {
  const totals = planCounts(prefixes, samples, conditions);
  const rewards: ArmProgress['rewards'] = {};
  for (const c of new Set([...Object.keys(carried.rewards), ...Object.keys(chunk.rewards)])) {
    const b = carried.rewards[c] ?? { judged: 0, valid: 0, sum: 0 };
    const r = chunk.rewards[c];
    const valid = b.valid + (r?.valid ?? 0);
    const sum = b.sum + Math.round((r?.mean ?? 0) * (r?.valid ?? 0));
    rewards[c] = { judged: b.judged + (r?.judged ?? 0), valid, mean: valid === 0 ? null : sum / valid };
  }
  const failed = carried.failures.length;
  return {
    ...chunk,
    thought: { done: carried.done.thought + chunk.thought.done, total: totals.thoughts },
    suffix: { done: carried.done.suffix + chunk.suffix.done, total: totals.suffixes },
    judge: { done: carried.done.judge + failed + chunk.judge.done, total: totals.judgments },
    errors: failed + chunk.errors,
    rewards,
  };
}

import { needsModelThought, type Condition } from './conditions';
import { conditionName, type ConditionEntry } from './interventions';
import { seededDerangement } from './derangement';
import { hash32 } from './rng';

/** A prefix as the plan knows it: id, position, and source. Texts stay in the store. */
export interface PlanPrefix {
  id: string;
  index: number;
  sourceId?: string;
}

/** The stage of a model request. */
export type Stage = 'thought' | 'suffix' | 'judge' | 'paraphrase';

/** One model request of the plan: a thought for (prefix, sample), or a suffix or judgment for (prefix, sample, condition). */
export interface WorkItem {
  stage: Stage;
  prefixId: string;
  prefixIndex: number;
  sample: number;
  /** Set for suffix and judge items. */
  condition?: Condition;
  /** The donor of a swapped thought. */
  thoughtSource?: { prefixId: string; prefixIndex: number; sample: number };
}

/** The number of requests a run makes per arm, as the plan fixes them (without invalid-judge retries). */
export interface PlanCounts {
  thoughts: number;
  suffixes: number;
  judgments: number;
}

/** Counts the requests of one arm's plan (its conditions' names or entries): thoughts only when a condition needs them. */
export function planCounts(prefixes: number, samples: number, conditions: readonly ConditionEntry[]): PlanCounts {
  // Every configured intervention starts from the arm's own thought.
  const needsThought = conditions.some((c) => typeof c !== 'string' || needsModelThought(c));
  const slots = prefixes * samples;
  return { thoughts: needsThought ? slots : 0, suffixes: slots * conditions.length, judgments: slots * conditions.length };
}

/** The swap of an arm as swap.json shows it: which prefix's thought each prefix received. */
export type SwapEntry = { prefixId: string; thoughtFrom: string };

/** The swaps by prefix id (swap[i] is the prefix index whose thought slot i received; null without the swapped condition). */
export function swapsByPrefixId(swaps: Record<string, number[] | null>, rows: { id: string }[]): Record<string, SwapEntry[]> {
  const out: Record<string, SwapEntry[]> = {};
  for (const [arm, sw] of Object.entries(swaps)) {
    if (sw) out[arm] = sw.map((from, i) => ({ prefixId: rows[i]!.id, thoughtFrom: rows[from]!.id }));
  }
  return out;
}

/** The operator-facing activity id of a batch: its first item, and how many more it carries. */
export function activityIdFor(arm: string, items: WorkItem[], seq: number): string {
  const first = items[0]!;
  const base = [arm, first.stage, first.prefixId, first.sample, ...(first.condition ? [first.condition] : [])].join('/');
  const more = items.length > 1 ? `+${items.length - 1}` : '';
  // The sequence number keeps ids unique if an item is ever scheduled twice in one execution.
  return `${base}${more}#${seq}`;
}

/**
 * Each arm's swap: swap[i] is the prefix index whose thought slot i receives (null without the swapped condition).
 * Seeded by the run seed and the arm's name, so the workflow and `export` derive the same one.
 */
export function armSwaps(
  config: { seed: number; conditions: readonly ConditionEntry[]; arms: { name: string }[]; dataset: { avoidSameSource?: boolean } },
  rows: { sourceId?: string }[],
): Record<string, number[] | null> {
  const needsSwap = config.conditions.map(conditionName).includes('same_arm_swapped_thought');
  const swaps: Record<string, number[] | null> = {};
  for (const arm of config.arms) {
    swaps[arm.name] = needsSwap
      ? seededDerangement(rows.length, {
          seed: hash32(`${config.seed}|swap|${arm.name}`),
          ...(config.dataset.avoidSameSource ? { sourceIds: rows.map((r) => r.sourceId) } : {}),
        })
      : null;
  }
  return swaps;
}

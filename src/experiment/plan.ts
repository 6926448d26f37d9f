import { type Condition, CONDITIONS } from './conditions';

/** A prefix as the plan knows it: id, position, and source. Texts stay in the store. */
export interface PlanPrefix {
  id: string;
  index: number;
  sourceId?: string;
}

/** The stage of a model request. */
export type Stage = 'thought' | 'suffix' | 'judge';

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

/** Counts the requests of one arm's plan: thoughts only when a condition needs them. */
export function planCounts(prefixes: number, samples: number, conditions: readonly Condition[]): PlanCounts {
  const needsThought = conditions.some((c) => c === 'normal_model_thought' || c === 'same_arm_swapped_thought');
  const slots = prefixes * samples;
  return { thoughts: needsThought ? slots : 0, suffixes: slots * conditions.length, judgments: slots * conditions.length };
}

/** The index of a condition in the experiment's order (compact records carry it). */
export function conditionIndex(c: Condition): number {
  return CONDITIONS.indexOf(c);
}

/** A stable key for a work item, unique within an arm. */
export function itemKey(stage: Stage, prefixIndex: number, sample: number, condition?: string): string {
  return condition ? `${stage}:${prefixIndex}:${sample}:${condition}` : `${stage}:${prefixIndex}:${sample}`;
}

/** The operator-facing activity id of a batch: its first item, and how many more it carries. */
export function activityIdFor(arm: string, items: WorkItem[], seq: number): string {
  const first = items[0]!;
  const base = [arm, first.stage, first.prefixId, first.sample, ...(first.condition ? [first.condition] : [])].join('/');
  const more = items.length > 1 ? `+${items.length - 1}` : '';
  // The sequence number keeps ids unique if an item is ever scheduled twice in one execution.
  return `${base}${more}#${seq}`;
}

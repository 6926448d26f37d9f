/** The four interventions on the thought, by their exact names in configs, records and reports. */
export const CONDITIONS = [
  'normal_model_thought',
  'blank_thought',
  'generic_thought',
  'same_arm_swapped_thought',
] as const;

/** One of the experiment's conditions. */
export type Condition = (typeof CONDITIONS)[number];

/** The causal baseline every intervention is compared with. */
export const BASELINE: Condition = 'normal_model_thought';

/** Conditions other than the baseline, in report order. */
export const INTERVENTIONS = CONDITIONS.filter((c) => c !== BASELINE) as Exclude<Condition, 'normal_model_thought'>[];

/** Whether a condition's suffix needs a thought that the arm generates. */
export function needsModelThought(condition: Condition): boolean {
  return condition === 'normal_model_thought' || condition === 'same_arm_swapped_thought';
}

/** The short name of each of the four conditions, as report columns and chart axes show them. */
const SHORT_CONDITION_NAMES: Readonly<Record<Condition, string>> = {
  normal_model_thought: 'normal',
  blank_thought: 'blank',
  generic_thought: 'generic',
  same_arm_swapped_thought: 'swapped',
};

/** A condition's short name: the four conditions have one, any other condition keeps its name. */
export function shortCondition(condition: string): string {
  return Object.hasOwn(SHORT_CONDITION_NAMES, condition) ? SHORT_CONDITION_NAMES[condition as Condition] : condition;
}

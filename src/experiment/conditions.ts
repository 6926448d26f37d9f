/** The four interventions on the thought, by their exact names in configs, records and reports. */
export const CONDITIONS = [
  'normal_model_thought',
  'blank_thought',
  'generic_thought',
  'same_arm_swapped_thought',
] as const;

/** One of the note's four conditions. */
export type NoteCondition = (typeof CONDITIONS)[number];

/** A condition's name: one of the note's four, or the name of a configured intervention (EXPERIMENT.md). */
// `string & {}` keeps the note's names visible to editors while admitting any configured name.
export type Condition = NoteCondition | (string & {});

/** The causal baseline every intervention is compared with. */
export const BASELINE: NoteCondition = 'normal_model_thought';

/** The note's conditions other than the baseline, in report order. */
export const INTERVENTIONS = CONDITIONS.filter((c) => c !== BASELINE) as Exclude<NoteCondition, 'normal_model_thought'>[];

/** Whether one of the note's conditions needs a thought that the arm generates (configured interventions say so elsewhere). */
export function needsModelThought(condition: Condition): boolean {
  return condition === 'normal_model_thought' || condition === 'same_arm_swapped_thought';
}

/** The short name of each of the four conditions, as report columns and chart axes show them. */
const SHORT_CONDITION_NAMES: Readonly<Record<NoteCondition, string>> = {
  normal_model_thought: 'normal',
  blank_thought: 'blank',
  generic_thought: 'generic',
  same_arm_swapped_thought: 'swapped',
};

/** A condition's short name: the four conditions have one, any other condition keeps its name. */
export function shortCondition(condition: string): string {
  return Object.hasOwn(SHORT_CONDITION_NAMES, condition) ? SHORT_CONDITION_NAMES[condition as NoteCondition] : condition;
}

import { CONDITIONS } from './conditions';
import { hash32, mulberry32, randomInt } from './rng';

/** The interventions beyond the note's four conditions, by their exact names in configs and records. */
export const INTERVENTION_KINDS = ['truncated_thought', 'filler_thought', 'shuffled_thought', 'cross_arm_thought', 'paraphrased_thought'] as const;

/** One of the configurable interventions on the thought. */
export type InterventionKind = (typeof INTERVENTION_KINDS)[number];

/** The default filler token of `filler_thought`. */
export const DEFAULT_FILLER_TOKEN = '...';

/** A paraphrasing chat model, as `paraphrased_thought` configures it. */
export interface ParaphraserSpec {
  baseURL: string;
  model: string;
  apiKeyEnv?: string;
  maxConcurrency: number;
  prompt?: string;
}

/** A configured intervention: `name` is what records, summaries and reports show. */
export type InterventionSpec =
  | { name: string; intervention: 'truncated_thought'; keep: number }
  | { name: string; intervention: 'filler_thought'; token?: string }
  | { name: string; intervention: 'shuffled_thought' }
  | { name: string; intervention: 'cross_arm_thought'; fromArm: string }
  | { name: string; intervention: 'paraphrased_thought'; paraphraser: ParaphraserSpec };

/** A `conditions` entry: one of the note's four names, or a configured intervention. */
export type ConditionEntry = string | InterventionSpec;

/** The name a condition entry goes by in records, summaries and reports. */
export function conditionName(entry: ConditionEntry): string {
  return typeof entry === 'string' ? entry : entry.name;
}

/** The names of a run's conditions, in config order. */
export function conditionNames(entries: readonly ConditionEntry[]): string[] {
  return entries.map(conditionName);
}

/** The configured interventions of a run's conditions (the note's four names left out). */
export function interventionSpecs(entries: readonly ConditionEntry[]): InterventionSpec[] {
  return entries.filter((e): e is InterventionSpec => typeof e !== 'string');
}

/** Whether a condition name is one of the note's four. */
export function isNoteCondition(name: string): boolean {
  return (CONDITIONS as readonly string[]).includes(name);
}

/** The conditions an arm runs: all of the run's, except a cross-arm transplant from the arm itself. */
export function armConditionEntries(entries: readonly ConditionEntry[], arm: string): ConditionEntry[] {
  return entries.filter((e) => typeof e === 'string' || e.intervention !== 'cross_arm_thought' || e.fromArm !== arm);
}

/**
 * The names of an arm's configured interventions derived from a thought of slot (i, k) by a pure function: the
 * suffix is ready once the arm's own thought of the slot is there (a transplant then waits in the store for the
 * other arm's thought of that slot, which is made at about the same time). Paraphrases have a stage of their own.
 */
export function derivedConditionNames(entries: readonly ConditionEntry[], arm: string): string[] {
  return interventionSpecs(armConditionEntries(entries, arm)).filter((s) => s.intervention !== 'paraphrased_thought').map((s) => s.name);
}

/** Each `paraphrased_thought` condition's slots of its paraphraser per arm: its maxConcurrency shared by the arms (at least 1). */
export function paraphraseSlots(entries: readonly ConditionEntry[], arms: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of interventionSpecs(entries)) {
    if (s.intervention === 'paraphrased_thought') out[s.name] = Math.max(1, Math.floor(s.paraphraser.maxConcurrency / Math.max(1, arms)));
  }
  return out;
}

/** The interventions by name, with their kind and parameters (no endpoints), as summaries and reports show them. */
export function interventionTable(entries: readonly ConditionEntry[]): Record<string, { intervention: InterventionKind } & Record<string, unknown>> {
  const out: Record<string, { intervention: InterventionKind } & Record<string, unknown>> = {};
  for (const s of interventionSpecs(entries)) {
    if (s.intervention === 'truncated_thought') out[s.name] = { intervention: s.intervention, keep: s.keep };
    else if (s.intervention === 'filler_thought') out[s.name] = { intervention: s.intervention, token: s.token ?? DEFAULT_FILLER_TOKEN };
    else if (s.intervention === 'cross_arm_thought') out[s.name] = { intervention: s.intervention, fromArm: s.fromArm };
    else if (s.intervention === 'paraphrased_thought') out[s.name] = { intervention: s.intervention, model: s.paraphraser.model };
    else out[s.name] = { intervention: s.intervention };
  }
  return out;
}

const wordsOf = (thought: string): string[] => {
  const t = thought.trim();
  return t === '' ? [] : t.split(/\s+/);
};

/** `truncated_thought`: the first floor(keep × |t|) words of the thought, joined by single spaces. */
export function truncateThought(thought: string, keep: number): string {
  const words = wordsOf(thought);
  return words.slice(0, Math.floor(keep * words.length)).join(' ');
}

/** `filler_thought`: as many copies of the token as the thought has words, joined by single spaces. */
export function fillerThought(thought: string, token: string = DEFAULT_FILLER_TOKEN): string {
  return Array.from({ length: wordsOf(thought).length }, () => token).join(' ');
}

/** The seed of the shuffled thought of (run seed, arm, prefix index, sample). */
export function shuffleSeed(runSeed: number, arm: string, prefixIndex: number, sample: number): number {
  return hash32(`${runSeed}|shuffled_thought|${arm}|${prefixIndex}|${sample}`);
}

/** `shuffled_thought`: the thought's words in an order drawn (Fisher-Yates) from a generator with this seed. */
export function shuffleThought(thought: string, seed: number): string {
  const words = wordsOf(thought);
  const random = mulberry32(seed);
  for (let i = words.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [words[i], words[j]] = [words[j]!, words[i]!];
  }
  return words.join(' ');
}

/** Where a derived thought comes from: the slot (i, k) of this arm, or of another arm for a transplant. */
export interface ThoughtSlot {
  runSeed: number;
  arm: string;
  prefixIndex: number;
  sample: number;
}

/** The arm whose thought of the same slot an intervention starts from. */
export function sourceArm(spec: InterventionSpec, arm: string): string {
  return spec.intervention === 'cross_arm_thought' ? spec.fromArm : arm;
}

/**
 * The thought a suffix is conditioned on under an intervention that is a pure function of a thought (every kind
 * but `paraphrased_thought`, whose thought a model writes): `source` is t(i, k) of the arm `sourceArm` names.
 */
export function deriveThought(spec: InterventionSpec, source: string, slot: ThoughtSlot): string {
  switch (spec.intervention) {
    case 'truncated_thought':
      return truncateThought(source, spec.keep);
    case 'filler_thought':
      return fillerThought(source, spec.token ?? DEFAULT_FILLER_TOKEN);
    case 'shuffled_thought':
      return shuffleThought(source, shuffleSeed(slot.runSeed, slot.arm, slot.prefixIndex, slot.sample));
    case 'cross_arm_thought':
      return source.trim();
    case 'paraphrased_thought':
      throw new Error('a paraphrased thought is written by the paraphraser, not derived');
  }
}

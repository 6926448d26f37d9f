import type { Condition } from '../../experiment/conditions';
import type { PlanPrefix, WorkItem } from '../../experiment/plan';

/** The endpoint a batch goes to: the arm's model server, the judge, or a paraphrased condition's paraphraser. */
export type Endpoint = 'arm' | 'judge' | 'paraphrase';

/** Settings of an arm's schedule. */
export interface ScheduleOptions {
  arm: string;
  prefixes: PlanPrefix[];
  samples: number;
  conditions: Condition[];
  /** swap[i] is the prefix index whose thought slot i receives. */
  swap: number[] | null;
  /** Conditions (configured interventions) whose suffix for slot (i, k) waits for the arm's own thought of (i, k). */
  derivedConditions?: string[];
  /** `paraphrased_thought` conditions and this arm's slots of each one's paraphraser: their suffixes wait for a paraphrase. */
  paraphrase?: Record<string, number>;
  armSlots: number;
  judgeSlots: number;
  /**
   * The prefixes this schedule covers, by position in `prefixes` ([start, end)); all of them when absent. An arm
   * whose workflow continues as new in chunks schedules one chunk at a time, plus the thoughts its swapped slots
   * receive from prefixes outside the chunk (stored once: whichever chunk asks first makes it, the other reads it).
   */
  range?: { start: number; end: number };
  /** At most this many requests per activity; 1 means one request per activity. */
  maxRequestsPerActivity: number;
  /** Judge slots are lent to and from the run (newer runs); batch sizing follows the arm's whole judge share. */
  judgeLending?: boolean;
  /**
   * Judge ahead (newer runs): a suffix's judgment is queued as soon as the suffix can be generated, and a judge batch
   * judges each of its suffixes the moment it is stored, so the judge never waits for a generation batch to end.
   */
  judgeAhead?: boolean;
}

/** A batch of ready requests for one endpoint: one activity, run with `lanes` requests in flight. */
export interface Batch {
  seq: number;
  activityId: string;
  endpoint: Endpoint;
  lanes: number;
  items: WorkItem[];
}

/** What a generation request produced, as the workflow carries it (texts are in the store). */
export interface GenerationResult {
  stage: 'thought' | 'suffix';
  prefixIndex: number;
  sample: number;
  condition?: Condition;
  /** Null when the request failed for this sample only (for example a 400); the text is then `error`. */
  error: string | null;
  thoughtWords?: number;
  suffixWords?: number;
}

/** What a paraphrase request produced (the text is in the store). */
export interface ParaphraseResult {
  prefixIndex: number;
  sample: number;
  condition: string;
  /** Null when it succeeded; else why this sample's paraphrase failed (for example a 400). */
  error: string | null;
}

/** What a judgment produced: the reward (null when invalid) and how many judge calls it took. */
export interface JudgeResult {
  prefixIndex: number;
  sample: number;
  condition: Condition;
  reward: 0 | 1 | null;
  attempts: number;
  error: string | null;
  /** The suffix was not there to judge (still generating, or its generation failed): judge it later, if at all. */
  notReady?: true;
  /** Word counts of the judged sample (newer activities). */
  thoughtWords?: number;
  suffixWords?: number;
}

/**
 * A finished record in compact form: [prefixIndex, sample, condition index, reward (-1 = null),
 * thought words, suffix words]. Small enough for workflow results at ten times the note's size.
 */
export type CompactRecord = [number, number, number, number, number, number];

/** A sample that ended in an error before it could be judged. */
export interface SampleFailure {
  prefixIndex: number;
  sample: number;
  condition: Condition;
  error: string;
}

/** Done and total per stage, and the judge backlog, for progress displays. */
export interface ArmProgress {
  thought: { done: number; total: number };
  suffix: { done: number; total: number };
  judge: { done: number; total: number };
  judgmentsWaiting: number;
  inFlight: { arm: number; judge: number };
  errors: number;
  /** Running reward means of the judgments so far, per condition (valid judgments only). */
  rewards: Record<string, { judged: number; valid: number; mean: number | null }>;
}

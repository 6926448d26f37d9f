import { BASELINE } from './conditions';
import { comparePaired, metricsOfTally, pairPrefixMeans, type ArmMetrics, type ScoredRecord } from './metrics';
import { tallyRecords, type RecordTally } from './tally';
import { hash32 } from './rng';
import type { InterventionKind } from './interventions';
import type { JudgeAgreement } from './judges';

/** A configured intervention as summary.json names it: its kind and parameters (never an endpoint). */
export type InterventionInfo = { intervention: InterventionKind } & Record<string, unknown>;

/** Two arms compared under the baseline condition, paired by prefix (armA minus armB). */
export interface ArmComparison {
  armA: string;
  armB: string;
  condition: string;
  /** mean over shared prefixes of p_i(armA) - p_i(armB). */
  mean: number | null;
  ci: [number, number] | null;
  pPermutation: number | null;
  aBetter: number;
  bBetter: number;
  tie: number;
  pSignTest: number | null;
  prefixes: number;
}

/** Every pair of arms under the baseline condition, in config order. */
export function compareArms(records: ScoredRecord[], armOrder: string[], seed = 4337): ArmComparison[] {
  return compareArmsOfTally(tallyRecords(records), armOrder, seed);
}

/** `compareArms` of a tally. */
export function compareArmsOfTally(tally: RecordTally, armOrder: string[], seed = 4337): ArmComparison[] {
  const empty = new Map<string, number>();
  const means = new Map(armOrder.map((a) => [a, tally.arms.get(a)?.conditions.get(BASELINE)?.main.prefixMeans() ?? empty]));
  const out: ArmComparison[] = [];
  for (let i = 0; i < armOrder.length; i++) {
    for (let j = i + 1; j < armOrder.length; j++) {
      const [a, b] = [armOrder[i]!, armOrder[j]!];
      const pairs = pairPrefixMeans(means.get(a)!, means.get(b)!);
      if (pairs.length === 0) continue;
      const c = comparePaired(pairs, { seed: hash32(`${seed}|arms|${a}|${b}`) });
      out.push({
        armA: a, armB: b, condition: BASELINE,
        mean: c.mean,
        ci: c.ci,
        pPermutation: c.pPermutation,
        aBetter: c.wins, bBetter: c.losses, tie: c.ties,
        pSignTest: c.pSignTest,
        prefixes: c.prefixes,
      });
    }
  }
  return out;
}

/** The size of a run, as the report's scale section states it. */
export interface RunScale {
  arms: number;
  prefixes: number;
  samplesPerPrefix: number;
  judgedSuffixes: number;
  invalid: number;
  invalidJudgeRate: number;
}

/** summary.json: the keys of EXPERIMENT.md plus the run's scale and provenance. */
export interface Summary {
  runId: string;
  /** Run ids whose records this summary contains (more than one after a resume). */
  runIds: string[];
  simulated: boolean;
  config: unknown;
  configHash: string | null;
  scale: RunScale;
  arms: Record<string, ArmMetrics>;
  /** Pairs of arms under normal_model_thought, paired by prefix (beyond EXPERIMENT.md's keys). */
  armComparisons: ArmComparison[];
  /** The configured interventions by condition name (absent when the run had only the note's conditions). */
  interventions?: Record<string, InterventionInfo>;
  /** Agreement of repeated judgments and of several judges (absent when every suffix was judged once by one judge). */
  judgeAgreement?: JudgeAgreement;
}

/** Options of a summary: provenance and the order of arms. */
export interface SummaryOptions {
  runId: string;
  runIds?: string[];
  simulated?: boolean;
  config?: unknown;
  configHash?: string | null;
  armOrder?: string[];
  /** Seed of the bootstrap and permutation draws (the run seed). */
  seed?: number;
  /** Condition names in the run's config order (orders the configured interventions). */
  conditionOrder?: readonly string[];
  /** The configured interventions by condition name. */
  interventions?: Record<string, InterventionInfo>;
  /** Judge agreement, computed from the records' judgments (`judgeAgreement`). */
  judgeAgreement?: JudgeAgreement;
}

/** Builds summary.json's content from scored records. */
export function buildSummary(records: ScoredRecord[], opts: SummaryOptions): Summary {
  return summaryOfTally(tallyRecords(records), opts);
}

/** Builds summary.json's content from a tally of the records. */
export function summaryOfTally(tally: RecordTally, opts: SummaryOptions): Summary {
  const metrics = metricsOfTally(tally, opts.armOrder, opts.seed, opts.conditionOrder);
  return {
    runId: opts.runId,
    runIds: opts.runIds ?? [opts.runId],
    simulated: opts.simulated ?? false,
    config: opts.config ?? null,
    configHash: opts.configHash ?? null,
    scale: {
      arms: Object.keys(metrics.arms).length,
      prefixes: tally.prefixes.size,
      samplesPerPrefix: tally.maxSample + 1,
      judgedSuffixes: tally.records,
      invalid: tally.invalid,
      invalidJudgeRate: tally.records === 0 ? 0 : tally.invalid / tally.records,
    },
    arms: metrics.arms,
    armComparisons: compareArmsOfTally(tally, Object.keys(metrics.arms), opts.seed),
    // Only present when there are any, so a run of the note's conditions writes today's summary.json to the byte.
    ...(opts.interventions && Object.keys(opts.interventions).length > 0 ? { interventions: opts.interventions } : {}),
    ...(opts.judgeAgreement ? { judgeAgreement: opts.judgeAgreement } : {}),
  };
}

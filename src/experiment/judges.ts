// Judge sensitivity (EXPERIMENT.md): how far a run's rewards depend on its judge, from the judgments records keep
// when a suffix is judged more than once (`judge.repeats`) or by more judges (`judges`).
import { cohenKappaOfCounts, repeatAgreementOfCounts, type Judgment, type RepeatAgreement } from './agreement';
import type { SampleRecord } from './records';
import { metricsOfTally, type SensitivityMetrics } from './metrics';
import { tallyRecords, type RecordTally } from './tally';

/** The name the main judge goes by in summaries and reports. */
export const MAIN_JUDGE = 'judge';

/** What judge agreement reads of a record: the fields analysis relies on, and the judgments when there are several. */
export interface JudgedRecord extends Pick<SampleRecord, 'arm' | 'condition' | 'prefixId' | 'sample' | 'thought' | 'suffix' | 'reward'> {
  judgments?: Judgment[];
  judges?: Record<string, { reward: 0 | 1 | null; judgments: Judgment[] }>;
}

/** A sensitivity under one judge, and whether its claim (own thought beats the condition) is supported under it. */
export interface JudgedSensitivity extends SensitivityMetrics {
  supported: boolean;
}

/** Two judges compared over the suffixes both judged validly. */
export interface JudgePair {
  judgeA: string;
  judgeB: string;
  suffixes: number;
  /** Share of those suffixes on which they agree. */
  agreement: number | null;
  cohenKappa: number | null;
}

/** summary.json's `judgeAgreement` (present only when suffixes were judged more than once). */
export interface JudgeAgreement {
  /** Unanimity and Fleiss' kappa of the main judge's repeats, per arm and condition (with `judge.repeats` > 1). */
  repeats?: Record<string, Record<string, RepeatAgreement>>;
  /** With extra judges: every judge's reward means, the pairs' Cohen's kappa, each sensitivity under each judge. */
  judges?: {
    names: string[];
    rewardMeans: Record<string, Record<string, Record<string, number | null>>>;
    pairs: JudgePair[];
    sensitivity: Record<string, Record<string, Record<string, JudgedSensitivity>>>;
  };
}

/** The significance a claim is held to, as report.md states it. */
export const CLAIM_ALPHA = 0.05;

/** Whether a sensitivity supports its claim: the 95% interval above zero and the permutation p below 0.05. */
export function claimSupported(s: SensitivityMetrics | undefined): boolean {
  return !!s && !!s.ci && s.ci[0] > 0 && s.pPermutation !== null && s.pPermutation < CLAIM_ALPHA;
}

/**
 * Judge agreement of a run's records, or undefined when every suffix was judged once by one judge (then the
 * summary is what it always was). Sensitivities under each judge use the same seeds as the main summary's.
 */
export function judgeAgreement(records: JudgedRecord[], opts: { armOrder?: string[]; seed?: number; conditionOrder?: readonly string[] } = {}): JudgeAgreement | undefined {
  return judgeAgreementOfTally(tallyRecords(records), opts);
}

/** `judgeAgreement` of a tally of the records. */
export function judgeAgreementOfTally(tally: RecordTally, opts: { armOrder?: string[]; seed?: number; conditionOrder?: readonly string[] } = {}): JudgeAgreement | undefined {
  const extra = tally.judgeNames;
  if (!tally.repeated && extra.length === 0) return undefined;
  const out: JudgeAgreement = {};
  const arms = [...new Set([...(opts.armOrder ?? []), ...tally.armNames()])].filter((a) => tally.arms.has(a));
  if (tally.repeated) {
    out.repeats = {};
    for (const arm of arms) {
      const a = tally.arms.get(arm)!;
      out.repeats[arm] = Object.fromEntries(a.judged.map((c) => [c, repeatAgreementOfCounts(a.conditions.get(c)!.repeats)]));
    }
  }
  if (extra.length > 0) {
    const names = [MAIN_JUDGE, ...extra];
    const rewardMeans: Record<string, Record<string, Record<string, number | null>>> = {};
    const sensitivity: Record<string, Record<string, Record<string, JudgedSensitivity>>> = {};
    for (const judge of names) {
      const m = metricsOfTally(tally, opts.armOrder, opts.seed, opts.conditionOrder, judge === MAIN_JUDGE ? undefined : judge);
      rewardMeans[judge] = Object.fromEntries(Object.entries(m.arms).map(([arm, a]) => [arm, Object.fromEntries(Object.entries(a.conditions).map(([c, x]) => [c, x.rewardMean]))]));
      for (const [arm, a] of Object.entries(m.arms)) {
        for (const [c, s] of Object.entries(a.sensitivity)) ((sensitivity[arm] ??= {})[c] ??= {})[judge] = { ...s, supported: claimSupported(s) };
      }
    }
    const pairs: JudgePair[] = [];
    const key = (name: string) => (name === MAIN_JUDGE ? '' : name);
    for (let i = 0; i < names.length; i++) {
      for (let k = i + 1; k < names.length; k++) {
        const p = tally.pairs.get(`${key(names[i]!)}\u0000${key(names[k]!)}`) ?? { n: 0, agree: 0, onesA: 0, onesB: 0 };
        pairs.push({
          judgeA: names[i]!, judgeB: names[k]!, suffixes: p.n,
          agreement: p.n === 0 ? null : p.agree / p.n,
          cohenKappa: cohenKappaOfCounts(p.n, p.agree, p.onesA, p.onesB),
        });
      }
    }
    out.judges = { names, rewardMeans, pairs, sensitivity };
  }
  return out;
}

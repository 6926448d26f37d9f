// Judge sensitivity (EXPERIMENT.md): how far a run's rewards depend on its judge, from the judgments records keep
// when a suffix is judged more than once (`judge.repeats`) or by more judges (`judges`).
import { cohenKappa, repeatAgreement, type Judgment, type RepeatAgreement } from './agreement';
import type { SampleRecord } from './records';
import { computeMetrics, scoreRecord, type SensitivityMetrics } from './metrics';

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

/** The reward each judge gave a record (the main judge's is the record's reward). */
function rewardOf(r: JudgedRecord, judge: string): 0 | 1 | null | undefined {
  return judge === MAIN_JUDGE ? r.reward : r.judges?.[judge]?.reward;
}

/**
 * Judge agreement of a run's records, or undefined when every suffix was judged once by one judge (then the
 * summary is what it always was). Sensitivities under each judge use the same seeds as the main summary's.
 */
export function judgeAgreement(records: JudgedRecord[], opts: { armOrder?: string[]; seed?: number; conditionOrder?: readonly string[] } = {}): JudgeAgreement | undefined {
  const repeated = records.some((r) => (r.judgments?.length ?? 0) > 1);
  const extra = [...new Set(records.flatMap((r) => Object.keys(r.judges ?? {})))];
  if (!repeated && extra.length === 0) return undefined;
  const out: JudgeAgreement = {};
  const arms = [...new Set([...(opts.armOrder ?? []), ...records.map((r) => r.arm)])].filter((a) => records.some((r) => r.arm === a));
  if (repeated) {
    out.repeats = {};
    for (const arm of arms) {
      const byCond = new Map<string, Judgment[][]>();
      for (const r of records) if (r.arm === arm && r.judgments) byCond.set(r.condition, [...(byCond.get(r.condition) ?? []), r.judgments]);
      out.repeats[arm] = Object.fromEntries([...byCond].map(([c, js]) => [c, repeatAgreement(js)]));
    }
  }
  if (extra.length > 0) {
    const names = [MAIN_JUDGE, ...extra];
    const rewardMeans: Record<string, Record<string, Record<string, number | null>>> = {};
    const sensitivity: Record<string, Record<string, Record<string, JudgedSensitivity>>> = {};
    for (const judge of names) {
      const scored = records.map((r) => scoreRecord({ ...r, reward: rewardOf(r, judge) ?? null }));
      const m = computeMetrics(scored, opts.armOrder, opts.seed, opts.conditionOrder);
      rewardMeans[judge] = Object.fromEntries(Object.entries(m.arms).map(([arm, a]) => [arm, Object.fromEntries(Object.entries(a.conditions).map(([c, x]) => [c, x.rewardMean]))]));
      for (const [arm, a] of Object.entries(m.arms)) {
        for (const [c, s] of Object.entries(a.sensitivity)) ((sensitivity[arm] ??= {})[c] ??= {})[judge] = { ...s, supported: claimSupported(s) };
      }
    }
    const pairs: JudgePair[] = [];
    for (let i = 0; i < names.length; i++) {
      for (let k = i + 1; k < names.length; k++) {
        const both = records.flatMap((r) => {
          const a = rewardOf(r, names[i]!);
          const b = rewardOf(r, names[k]!);
          return a === null || a === undefined || b === null || b === undefined ? [] : [[a, b] as [0 | 1, 0 | 1]];
        });
        pairs.push({
          judgeA: names[i]!, judgeB: names[k]!, suffixes: both.length,
          agreement: both.length === 0 ? null : both.filter(([a, b]) => a === b).length / both.length,
          cohenKappa: cohenKappa(both),
        });
      }
    }
    out.judges = { names, rewardMeans, pairs, sensitivity };
  }
  return out;
}

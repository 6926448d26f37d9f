import { BASELINE, CONDITIONS } from './conditions';
import { wordCount } from './words';
import { hash32 } from './rng';
import { clusterMeanCI, mcnemarExactPValue, pairedBootstrapCI, signFlipPValue, signTestPValue } from './stats';

/** The part of a record that metrics use: ids, reward and word counts (what a workflow carries). */
export interface ScoredRecord {
  arm: string;
  condition: string;
  prefixId: string;
  sample: number;
  reward: 0 | 1 | null;
  thoughtWords: number;
  suffixWords: number;
}

/** The scored view of a record with texts. */
export function scoreRecord(r: { arm: string; condition: string; prefixId: string; sample: number; reward: 0 | 1 | null; thought: string; suffix: string }): ScoredRecord {
  return {
    arm: r.arm,
    condition: r.condition,
    prefixId: r.prefixId,
    sample: r.sample,
    reward: r.reward,
    thoughtWords: wordCount(r.thought),
    suffixWords: wordCount(r.suffix),
  };
}

/** Metrics of one arm under one condition (keys as in EXPERIMENT.md). */
export interface ConditionMetrics {
  n: number;
  valid: number;
  invalid: number;
  invalidJudgeRate: number;
  rewardMean: number | null;
  rewardStd: number | null;
  prefixMeanReward: number | null;
  anySuccessPrefixRate: number | null;
  allSuccessPrefixRate: number | null;
  avgThoughtWords: number;
  avgSuffixWords: number;
  /** Prefixes with at least one valid record. */
  prefixes: number;
  /** 95% cluster (by prefix) confidence interval of rewardMean. */
  rewardMeanCI: [number, number] | null;
}

/** Prefix-level sensitivity of the baseline over one intervention. */
export interface SensitivityMetrics {
  mean: number | null;
  /** 95% paired bootstrap interval over prefixes (10,000 draws, seeded). */
  ci: [number, number] | null;
  /** Two-sided sign-flip permutation p-value of the mean. */
  pPermutation: number | null;
  prefixes: number;
}

/** Prefix-level win rates of the baseline over one intervention. */
export interface WinRateMetrics {
  normalBetter: number | null;
  interventionBetter: number | null;
  tie: number | null;
  /** Exact two-sided sign test on the win counts (ties dropped). */
  pSignTest: number | null;
  /** Exact McNemar test on prefix-level any-success (baseline vs intervention). */
  pMcNemarAnySuccess: number | null;
  prefixes: number;
}

/** Everything measured for one arm. */
export interface ArmMetrics {
  conditions: Record<string, ConditionMetrics>;
  sensitivity: Record<string, SensitivityMetrics>;
  winRates: Record<string, WinRateMetrics>;
}

/** Metrics per arm, arms and conditions in a stable order. */
export interface Metrics {
  arms: Record<string, ArmMetrics>;
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Orders condition names: the experiment's own order first, then any others by name. */
export function orderConditions(names: Iterable<string>): string[] {
  const known = CONDITIONS as readonly string[];
  return [...new Set(names)].sort((a, b) => {
    const ia = known.indexOf(a);
    const ib = known.indexOf(b);
    if (ia >= 0 && ib >= 0) return ia - ib;
    if (ia >= 0) return -1;
    if (ib >= 0) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** The mean valid reward of each prefix (prefixes with no valid record are absent). */
export function prefixMeans(records: ScoredRecord[]): Map<string, number> {
  const sums = new Map<string, { s: number; n: number }>();
  for (const r of records) {
    if (r.reward === null) continue;
    const e = sums.get(r.prefixId) ?? { s: 0, n: 0 };
    e.s += r.reward;
    e.n += 1;
    sums.set(r.prefixId, e);
  }
  return new Map([...sums].map(([k, v]) => [k, v.s / v.n]));
}

/** The metrics of one arm under one condition. */
export function conditionMetrics(records: ScoredRecord[]): ConditionMetrics {
  const n = records.length;
  const rewards: number[] = records.flatMap((r) => (r.reward === null ? [] : [r.reward]));
  const valid = rewards.length;
  const rewardMean = mean(rewards);
  const rewardStd =
    rewardMean === null ? null : Math.sqrt(rewards.reduce((a, r) => a + (r - rewardMean) ** 2, 0) / valid);
  const byPrefix = new Map<string, number[]>();
  for (const r of records) {
    if (r.reward === null) continue;
    const list = byPrefix.get(r.prefixId) ?? [];
    list.push(r.reward);
    byPrefix.set(r.prefixId, list);
  }
  const prefixes = byPrefix.size;
  const rewardMeanCI = clusterMeanCI([...byPrefix.values()]);
  const pMeans = [...byPrefix.values()].map((xs) => xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    n,
    valid,
    invalid: n - valid,
    invalidJudgeRate: n === 0 ? 0 : (n - valid) / n,
    rewardMean,
    rewardStd,
    prefixMeanReward: mean(pMeans),
    anySuccessPrefixRate: prefixes === 0 ? null : [...byPrefix.values()].filter((xs) => xs.some((x) => x === 1)).length / prefixes,
    allSuccessPrefixRate: prefixes === 0 ? null : [...byPrefix.values()].filter((xs) => xs.every((x) => x === 1)).length / prefixes,
    avgThoughtWords: n === 0 ? 0 : records.reduce((a, r) => a + r.thoughtWords, 0) / n,
    avgSuffixWords: n === 0 ? 0 : records.reduce((a, r) => a + r.suffixWords, 0) / n,
    prefixes,
    rewardMeanCI,
  };
}

/** The paired prefix means of the baseline and an intervention, over prefixes present in both. */
export function pairedPrefixMeans(normal: ScoredRecord[], intervention: ScoredRecord[]): { prefixId: string; normal: number; intervention: number }[] {
  const a = prefixMeans(normal);
  const b = prefixMeans(intervention);
  return [...a.keys()]
    .filter((k) => b.has(k))
    .sort()
    .map((k) => ({ prefixId: k, normal: a.get(k)!, intervention: b.get(k)! }));
}

/** Sensitivity and win rates of the baseline over one intervention, with their uncertainty (seeded). */
export function comparison(normal: ScoredRecord[], intervention: ScoredRecord[], seed = 4337): { sensitivity: SensitivityMetrics; winRates: WinRateMetrics } {
  const pairs = pairedPrefixMeans(normal, intervention);
  const m = pairs.length;
  const count = (pred: (p: (typeof pairs)[number]) => boolean) => pairs.filter(pred).length;
  const share = (pred: (p: (typeof pairs)[number]) => boolean) => (m === 0 ? null : count(pred) / m);
  const diffs = pairs.map((p) => p.normal - p.intervention);
  // Any-success per prefix is "prefix mean > 0": a prefix has a success exactly when its mean is positive.
  const onlyNormal = count((p) => p.normal > 0 && p.intervention === 0);
  const onlyIntervention = count((p) => p.normal === 0 && p.intervention > 0);
  return {
    sensitivity: {
      mean: mean(diffs),
      ci: pairedBootstrapCI(diffs, { seed }),
      pPermutation: signFlipPValue(diffs, { seed }),
      prefixes: m,
    },
    winRates: {
      normalBetter: share((p) => p.normal > p.intervention),
      interventionBetter: share((p) => p.normal < p.intervention),
      tie: share((p) => p.normal === p.intervention),
      pSignTest: m === 0 ? null : signTestPValue(count((p) => p.normal > p.intervention), count((p) => p.normal < p.intervention)),
      pMcNemarAnySuccess: m === 0 ? null : mcnemarExactPValue(onlyNormal, onlyIntervention),
      prefixes: m,
    },
  };
}

/** Groups records by arm and condition, arms in order of first appearance. */
export function groupRecords<R extends ScoredRecord>(records: R[]): Map<string, Map<string, R[]>> {
  const arms = new Map<string, Map<string, R[]>>();
  for (const r of records) {
    const conds = arms.get(r.arm) ?? new Map<string, R[]>();
    const list = conds.get(r.condition) ?? [];
    list.push(r);
    conds.set(r.condition, list);
    arms.set(r.arm, conds);
  }
  return arms;
}

/** Every metric of EXPERIMENT.md, uncertainty included, for a set of records (bootstrap and permutation seeded from `seed`). */
export function computeMetrics(records: ScoredRecord[], armOrder: string[] = [], seed = 4337): Metrics {
  const grouped = groupRecords(records);
  const arms = [...armOrder.filter((a) => grouped.has(a)), ...[...grouped.keys()].filter((a) => !armOrder.includes(a))];
  const out: Metrics = { arms: {} };
  for (const arm of arms) {
    const conds = grouped.get(arm)!;
    const names = orderConditions(conds.keys());
    const armMetrics: ArmMetrics = { conditions: {}, sensitivity: {}, winRates: {} };
    for (const c of names) armMetrics.conditions[c] = conditionMetrics(conds.get(c)!);
    const normal = conds.get(BASELINE);
    if (normal) {
      for (const c of names) {
        if (c === BASELINE) continue;
        const cmp = comparison(normal, conds.get(c)!, hash32(`${seed}|${arm}|${c}`));
        armMetrics.sensitivity[c] = cmp.sensitivity;
        armMetrics.winRates[c] = cmp.winRates;
      }
    }
    out.arms[arm] = armMetrics;
  }
  return out;
}

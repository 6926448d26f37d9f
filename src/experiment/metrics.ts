import { BASELINE, CONDITIONS } from './conditions';
import { wordCount } from './words';
import { hash32 } from './rng';
import { clusterMeanCI, mcnemarExactPValue, pairedBootstrapCI, signFlipPValue, signTestPValue } from './stats';
import { ConditionTally, RewardCells, tallyRecords, type RecordTally } from './tally';

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

/** Orders condition names: the experiment's own order first, then any others in `order` (a run's config order), then by name. */
export function orderConditions(names: Iterable<string>, order: readonly string[] = []): string[] {
  const known = [...CONDITIONS, ...order.filter((c) => !(CONDITIONS as readonly string[]).includes(c))];
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
  const cells = new RewardCells();
  for (const r of records) cells.add(r.prefixId, r.reward);
  return cells.prefixMeans();
}

/** The metrics of one arm under one condition. */
export function conditionMetrics(records: ScoredRecord[]): ConditionMetrics {
  const t = new ConditionTally();
  for (const r of records) {
    t.n += 1;
    t.thoughtWords += r.thoughtWords;
    t.suffixWords += r.suffixWords;
    t.main.add(r.prefixId, r.reward);
  }
  return conditionMetricsOf(t, t.main);
}

/** The metrics of one arm × condition's tally, with the rewards of one judge (its main judge's by default). */
export function conditionMetricsOf(t: ConditionTally, cells: RewardCells = t.main): ConditionMetrics {
  const n = t.n;
  const valid = cells.valid;
  let sum = 0;
  for (let i = 0; i < valid; i++) sum += cells.sequence.at(i);
  const rewardMean = valid === 0 ? null : sum / valid;
  let squares = 0;
  if (rewardMean !== null) for (let i = 0; i < valid; i++) squares += (cells.sequence.at(i) - rewardMean) ** 2;
  const rewardStd = rewardMean === null ? null : Math.sqrt(squares / valid);
  const groups = cells.groups();
  const prefixes = groups.length;
  const rewardMeanCI = clusterMeanCI(groups);
  const pMeans = groups.map((xs) => xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    n,
    valid,
    invalid: n - valid,
    invalidJudgeRate: n === 0 ? 0 : (n - valid) / n,
    rewardMean,
    rewardStd,
    prefixMeanReward: mean(pMeans),
    anySuccessPrefixRate: prefixes === 0 ? null : groups.filter((xs) => xs.some((x) => x === 1)).length / prefixes,
    allSuccessPrefixRate: prefixes === 0 ? null : groups.filter((xs) => xs.every((x) => x === 1)).length / prefixes,
    avgThoughtWords: n === 0 ? 0 : t.thoughtWords / n,
    avgSuffixWords: n === 0 ? 0 : t.suffixWords / n,
    prefixes,
    rewardMeanCI,
  };
}

/** One prefix's mean reward on each side of a paired comparison; its difference is x − y. */
export interface PrefixPair {
  prefixId: string;
  x: number;
  y: number;
}

/**
 * The prefixes present in both maps of prefix means, in prefix id order (the order the bootstrap resamples,
 * so it is part of every interval's value).
 */
export function pairPrefixMeans(x: Map<string, number>, y: Map<string, number>): PrefixPair[] {
  return [...x.keys()]
    .filter((k) => y.has(k))
    .sort()
    .map((k) => ({ prefixId: k, x: x.get(k)!, y: y.get(k)! }));
}

/** A paired comparison of two sides over their shared prefixes: differences x − y, with their uncertainty. */
export interface PairedComparison {
  prefixes: number;
  /** Mean prefix mean of each side over the shared prefixes. */
  meanX: number | null;
  meanY: number | null;
  /** Mean over the shared prefixes of x − y. */
  mean: number | null;
  /** 95% paired bootstrap interval of `mean` over prefixes. */
  ci: [number, number] | null;
  /** Two-sided sign-flip permutation p-value of `mean`. */
  pPermutation: number | null;
  /** Prefixes with x > y, x < y and x = y. */
  wins: number;
  losses: number;
  ties: number;
  /** Exact two-sided sign test of wins against losses (null with no prefixes). */
  pSignTest: number | null;
  /** Prefix-level any-success (prefix mean > 0) on both sides, only x, only y, neither; exact McNemar on (onlyX, onlyY). */
  anySuccess: { both: number; onlyX: number; onlyY: number; neither: number; pMcNemar: number | null };
}

/**
 * The paired prefix statistics of EXPERIMENT.md ("Uncertainty") for prefix pairs in the order given: mean
 * difference, bootstrap interval (`bootstrapDraws`, default 10,000), sign-flip permutation p-value (its own
 * default draws), win counts with a sign test, and McNemar on any-success; every draw seeded from `seed`.
 */
export function comparePaired(pairs: PrefixPair[], opts: { seed: number; bootstrapDraws?: number }): PairedComparison {
  const n = pairs.length;
  const diffs = pairs.map((p) => p.x - p.y);
  const wins = diffs.filter((d) => d > 0).length;
  const losses = diffs.filter((d) => d < 0).length;
  const any = { both: 0, onlyX: 0, onlyY: 0, neither: 0 };
  for (const p of pairs) {
    const sx = p.x > 0;
    const sy = p.y > 0;
    if (sx && sy) any.both++;
    else if (sx) any.onlyX++;
    else if (sy) any.onlyY++;
    else any.neither++;
  }
  return {
    prefixes: n,
    meanX: mean(pairs.map((p) => p.x)),
    meanY: mean(pairs.map((p) => p.y)),
    mean: mean(diffs),
    ci: pairedBootstrapCI(diffs, { seed: opts.seed, draws: opts.bootstrapDraws }),
    pPermutation: signFlipPValue(diffs, { seed: opts.seed }),
    wins,
    losses,
    ties: n - wins - losses,
    pSignTest: n === 0 ? null : signTestPValue(wins, losses),
    anySuccess: { ...any, pMcNemar: n === 0 ? null : mcnemarExactPValue(any.onlyX, any.onlyY) },
  };
}

/** Sensitivity and win rates of the baseline over one intervention, with their uncertainty (seeded). */
export function comparison(normal: ScoredRecord[], intervention: ScoredRecord[], seed = 4337): { sensitivity: SensitivityMetrics; winRates: WinRateMetrics } {
  return comparisonOfMeans(prefixMeans(normal), prefixMeans(intervention), seed);
}

/** `comparison` from the two sides' prefix means. */
export function comparisonOfMeans(normal: Map<string, number>, intervention: Map<string, number>, seed = 4337): { sensitivity: SensitivityMetrics; winRates: WinRateMetrics } {
  const c = comparePaired(pairPrefixMeans(normal, intervention), { seed });
  const m = c.prefixes;
  const share = (k: number) => (m === 0 ? null : k / m);
  return {
    sensitivity: { mean: c.mean, ci: c.ci, pPermutation: c.pPermutation, prefixes: m },
    winRates: {
      normalBetter: share(c.wins),
      interventionBetter: share(c.losses),
      tie: share(c.ties),
      pSignTest: c.pSignTest,
      pMcNemarAnySuccess: c.anySuccess.pMcNemar,
      prefixes: m,
    },
  };
}

/**
 * Every metric of EXPERIMENT.md, uncertainty included, for a set of records (bootstrap and permutation seeded from
 * `seed`); conditions beyond the note's in `conditionOrder` (a run's config order), then by name.
 */
export function computeMetrics(records: ScoredRecord[], armOrder: string[] = [], seed = 4337, conditionOrder: readonly string[] = []): Metrics {
  return metricsOfTally(tallyRecords(records), armOrder, seed, conditionOrder);
}

/** `computeMetrics` of a tally, under the rewards of one judge (the main judge's unless named). */
export function metricsOfTally(tally: RecordTally, armOrder: string[] = [], seed = 4337, conditionOrder: readonly string[] = [], judge?: string): Metrics {
  const arms = [...armOrder.filter((a) => tally.arms.has(a)), ...tally.armNames().filter((a) => !armOrder.includes(a))];
  const out: Metrics = { arms: {} };
  for (const arm of arms) {
    const conds = tally.arms.get(arm)!.conditions;
    const names = orderConditions(conds.keys(), conditionOrder);
    const armMetrics: ArmMetrics = { conditions: {}, sensitivity: {}, winRates: {} };
    for (const c of names) armMetrics.conditions[c] = conditionMetricsOf(conds.get(c)!, conds.get(c)!.rewards(judge));
    const normal = conds.get(BASELINE);
    if (normal) {
      const normalMeans = normal.rewards(judge).prefixMeans();
      for (const c of names) {
        if (c === BASELINE) continue;
        const cmp = comparisonOfMeans(normalMeans, conds.get(c)!.rewards(judge).prefixMeans(), hash32(`${seed}|${arm}|${c}`));
        armMetrics.sensitivity[c] = cmp.sensitivity;
        armMetrics.winRates[c] = cmp.winRates;
      }
    }
    out.arms[arm] = armMetrics;
  }
  return out;
}

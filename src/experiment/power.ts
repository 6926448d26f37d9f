// How many prefixes a claim needs (EXPERIMENT.md, "How many prefixes"): the paired normal approximation over the
// prefix-level differences d_i = p_i(normal) − p_i(c) that the sensitivity averages.
import { BASELINE } from './conditions';
import { orderConditions, pairPrefixMeans, type ScoredRecord } from './metrics';
import { tallyRecords, type RecordTally } from './tally';
import { normalQuantile } from './stats';

/** Significance (two-sided) and power of a prefix-count estimate. */
export interface PowerOptions {
  /** Two-sided significance level, in (0, 1); default 0.05. */
  alpha?: number;
  /** Power, in (0, 1); default 0.8. */
  power?: number;
  /** The effect D to detect; default: the observed sensitivity. */
  effect?: number;
}

/** The default significance of `thought-probe power`. */
export const DEFAULT_ALPHA = 0.05;
/** The default power of `thought-probe power`. */
export const DEFAULT_POWER = 0.8;

/** One arm and condition: what `thought-probe power --json` prints for it. */
export interface PowerEstimate {
  /** The observed sensitivity: mean of d_i (null without shared prefixes). */
  effect: number | null;
  /** The sample standard deviation (n − 1) of d_i (null with fewer than 2 prefixes). */
  sd: number | null;
  /** n: prefixes with a valid record under both conditions. */
  prefixes: number;
  /** (z(1 − alpha/2) + z(power)) × sd / sqrt(n). */
  minimumDetectableEffect: number | null;
  /** ceil(((z(1 − alpha/2) + z(power)) × sd / D)²); null when D is 0 (no prefix count detects no effect) or sd is unknown. */
  prefixesNeeded: number | null;
}

/** z(1 − alpha/2) + z(power): the multiplier of sd in both formulas. */
export function powerMultiplier(alpha = DEFAULT_ALPHA, power = DEFAULT_POWER): number {
  return normalQuantile(1 - alpha / 2) + normalQuantile(power);
}

/** Prefixes needed to detect an effect D with this sd: ceil(((z(1 − alpha/2) + z(power)) × sd / D)²); null when D is 0. */
export function prefixesNeeded(sd: number, effect: number, alpha = DEFAULT_ALPHA, power = DEFAULT_POWER): number | null {
  if (effect === 0) return null;
  return Math.ceil(((powerMultiplier(alpha, power) * sd) / Math.abs(effect)) ** 2);
}

/** The smallest effect detectable with n prefixes: (z(1 − alpha/2) + z(power)) × sd / sqrt(n). */
export function minimumDetectableEffect(sd: number, n: number, alpha = DEFAULT_ALPHA, power = DEFAULT_POWER): number {
  return (powerMultiplier(alpha, power) * sd) / Math.sqrt(n);
}

/** The sample standard deviation (n − 1); null with fewer than two values. */
export function sampleSd(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** The estimate for one set of prefix-level differences. */
export function powerEstimate(diffs: number[], opts: PowerOptions = {}): PowerEstimate {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const power = opts.power ?? DEFAULT_POWER;
  const n = diffs.length;
  const effect = n === 0 ? null : diffs.reduce((a, b) => a + b, 0) / n;
  const sd = sampleSd(diffs);
  const target = opts.effect ?? effect;
  return {
    effect,
    sd,
    prefixes: n,
    minimumDetectableEffect: sd === null ? null : minimumDetectableEffect(sd, n, alpha, power),
    prefixesNeeded: sd === null || target === null ? null : prefixesNeeded(sd, target, alpha, power),
  };
}

/** The estimate per arm and condition (every condition against normal_model_thought), arms in order of first appearance. */
export function powerTable(records: ScoredRecord[], opts: PowerOptions = {}): Record<string, Record<string, PowerEstimate>> {
  return powerTableOfTally(tallyRecords(records), opts);
}

/** `powerTable` of a tally of the records. */
export function powerTableOfTally(tally: RecordTally, opts: PowerOptions = {}): Record<string, Record<string, PowerEstimate>> {
  const out: Record<string, Record<string, PowerEstimate>> = {};
  for (const [arm, a] of tally.arms) {
    const normal = a.conditions.get(BASELINE)?.main.prefixMeans() ?? new Map<string, number>();
    if (normal.size === 0) continue;
    // The note's conditions in their order, any others in the order records first show them.
    const seen = [...a.conditions.keys()];
    const conds = orderConditions(seen, seen).filter((c) => c !== BASELINE);
    out[arm] = {};
    for (const c of conds) {
      const pairs = pairPrefixMeans(normal, a.conditions.get(c)!.main.prefixMeans());
      out[arm]![c] = powerEstimate(pairs.map((p) => p.x - p.y), opts);
    }
  }
  return out;
}

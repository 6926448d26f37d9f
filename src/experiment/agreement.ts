import { SmallInts } from './tally';
// Agreement between judgments of the same suffixes (EXPERIMENT.md, "Judge sensitivity"): the majority reward of
// repeated judgments, Fleiss' kappa over repeats, Cohen's kappa between two judges.

/** The reward of repeated judgments: the majority of the valid scores; a tie goes to the first valid one; null when none is valid. */
export function majorityReward(scores: readonly (0 | 1 | null)[]): 0 | 1 | null {
  const valid = scores.filter((s): s is 0 | 1 => s !== null);
  if (valid.length === 0) return null;
  const ones = valid.filter((s) => s === 1).length;
  if (2 * ones > valid.length) return 1;
  if (2 * ones < valid.length) return 0;
  return valid[0]!;
}

/**
 * Fleiss' kappa of subjects rated by the same number of raters into categories: `counts[i][j]` is how many raters
 * put subject i in category j. Null without subjects, with fewer than two raters, or when every rating falls in one
 * category (chance agreement is then 1 and kappa undefined).
 */
export function fleissKappa(counts: readonly (readonly number[])[]): number | null {
  const N = counts.length;
  if (N === 0) return null;
  const n = counts[0]!.reduce((a, b) => a + b, 0);
  if (n < 2) return null;
  if (counts.some((row) => row.reduce((a, b) => a + b, 0) !== n)) throw new Error('fleissKappa: every subject needs the same number of ratings');
  const k = counts[0]!.length;
  let pBar = 0;
  const totals = Array<number>(k).fill(0);
  for (const row of counts) {
    pBar += (row.reduce((a, c) => a + c * c, 0) - n) / (n * (n - 1));
    row.forEach((c, j) => (totals[j]! += c));
  }
  pBar /= N;
  const pe = totals.reduce((a, t) => a + (t / (N * n)) ** 2, 0);
  return pe === 1 ? null : (pBar - pe) / (1 - pe);
}

/**
 * Cohen's kappa of two raters' 0/1 scores of the same subjects: (p_o − p_e) / (1 − p_e). Null without subjects, or
 * when both raters give one and the same score to every subject (p_e = 1).
 */
export function cohenKappa(pairs: readonly (readonly [0 | 1, 0 | 1])[]): number | null {
  let agree = 0;
  let a1 = 0;
  let b1 = 0;
  for (const [a, b] of pairs) {
    if (a === b) agree++;
    a1 += a;
    b1 += b;
  }
  return cohenKappaOfCounts(pairs.length, agree, a1, b1);
}

/** Cohen's kappa from counts: n subjects, `agree` of them scored alike, `onesA` and `onesB` scored 1 by each rater. */
export function cohenKappaOfCounts(n: number, agree: number, onesA: number, onesB: number): number | null {
  if (n === 0) return null;
  const po = agree / n;
  const pe = (onesA / n) * (onesB / n) + (1 - onesA / n) * (1 - onesB / n);
  return pe === 1 ? null : (po - pe) / (1 - pe);
}

/** One judgment of a suffix, as records store them. */
export interface Judgment {
  /** The 0/1 score, null when the answer had none (after the invalid retries). */
  score: 0 | 1 | null;
  valid: boolean;
  raw: string;
  attempts: number;
}

/** Agreement of a judge's repeated judgments under one arm × condition. */
export interface RepeatAgreement {
  /** Suffixes with at least one valid judgment. */
  suffixes: number;
  /** Share of those whose valid judgments all agree. */
  unanimous: number | null;
  /** Fleiss' kappa over the suffixes with every judgment valid. */
  fleissKappa: number | null;
  /** Suffixes with every judgment valid (those Fleiss' kappa is computed over). */
  complete: number;
}

/** Unanimity and Fleiss' kappa of repeated judgments, each entry one suffix's judgments. */
export function repeatAgreement(judgments: readonly (readonly Judgment[])[]): RepeatAgreement {
  const counts = new SmallInts();
  for (const js of judgments) {
    const valid = js.filter((j) => j.score !== null);
    counts.push(js.length);
    counts.push(valid.length);
    counts.push(valid.filter((j) => j.score === 1).length);
  }
  return repeatAgreementOfCounts(counts);
}

/** `repeatAgreement` from three counts per suffix, in order: its judgments, the valid ones, and those scoring 1. */
export function repeatAgreementOfCounts(counts: SmallInts): RepeatAgreement {
  const m = counts.length / 3;
  let withValid = 0;
  let unanimous = 0;
  let repeats = 0;
  for (let i = 0; i < m; i++) {
    const [n, valid, ones] = [counts.at(3 * i), counts.at(3 * i + 1), counts.at(3 * i + 2)];
    if (valid > 0) {
      withValid++;
      if (ones === 0 || ones === valid) unanimous++;
    }
    if (n > repeats) repeats = n;
  }
  const complete: number[][] = [];
  for (let i = 0; i < m; i++) {
    const [n, valid, ones] = [counts.at(3 * i), counts.at(3 * i + 1), counts.at(3 * i + 2)];
    if (n === repeats && valid === n) complete.push([ones, n - ones]);
  }
  return {
    suffixes: withValid,
    unanimous: withValid === 0 ? null : unanimous / withValid,
    fleissKappa: fleissKappa(complete),
    complete: complete.length,
  };
}

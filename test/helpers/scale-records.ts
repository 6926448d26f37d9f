// Seeded synthetic samples.jsonl records (the fields the probe writes) and the statistics of the experiment computed
// naively from them, record by record, with nothing from src/experiment: what the scale tests check summaries against.
import type { SampleRecord } from '../../src/experiment/records';

/** A seeded generator of uniform numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCAB = ['the', 'river', 'bank', 'closed', 'after', 'a', 'storm', 'model', 'thinks', 'about', 'next', 'clause', 'because', 'of', 'its', 'proof', 'lemma', 'and'];

/** Text of `n` words, separated by runs of spaces, tabs and newlines, sometimes padded, so word counting is exercised. */
export function synthText(rand: () => number, n: number): string {
  const gaps = [' ', ' ', ' ', '  ', '\n', '\t', ' \n '];
  let s = rand() < 0.2 ? ' ' : '';
  for (let i = 0; i < n; i++) {
    if (i > 0) s += gaps[Math.floor(rand() * gaps.length)]!;
    s += VOCAB[Math.floor(rand() * VOCAB.length)]!;
  }
  return rand() < 0.2 ? `${s}\n` : s;
}

/** Options of a synthetic record. */
export interface SynthOptions {
  runId: string;
  arm: string;
  condition: string;
  prefixIndex: number;
  prefixId: string;
  sample: number;
  /** Probability of reward 1 for a valid judgment. */
  p: number;
  /** Probability of an invalid judgment (reward null). */
  invalidRate: number;
}

/** One record as the probe writes it, its reward drawn from `rand`. */
export function synthRecord(rand: () => number, o: SynthOptions): SampleRecord {
  const invalid = rand() < o.invalidRate;
  const reward: 0 | 1 | null = invalid ? null : rand() < o.p ? 1 : 0;
  const blank = o.condition === 'blank_thought';
  const thought = blank ? '' : synthText(rand, 2 + Math.floor(rand() * 14));
  const suffix = synthText(rand, Math.floor(rand() * 12));
  const attempts = invalid ? 3 : 1 + (rand() < 0.05 ? 1 : 0);
  return {
    runId: o.runId,
    arm: o.arm,
    condition: o.condition,
    prefixId: o.prefixId,
    prefixIndex: o.prefixIndex,
    sample: o.sample,
    thought,
    suffix,
    reward,
    judge: { valid: !invalid, raw: invalid ? 'I cannot decide.' : `Reasoning... SCORE: ${reward}`, attempts },
    thoughtSource: null,
    closedThought: blank ? null : rand() < 0.9,
    error: null,
    simulated: true,
    timings: { thoughtMs: Math.floor(rand() * 900), suffixMs: Math.floor(rand() * 700), judgeMs: Math.floor(rand() * 300) },
    usage: { promptTokens: 200 + Math.floor(rand() * 300), completionTokens: 10 + Math.floor(rand() * 90) },
  };
}

/** Whitespace-separated tokens. */
export const naiveWords = (text: string): number => text.split(/\s+/).filter((w) => w !== '').length;

/** One prefix under one arm × condition, counted naively. */
export interface NaivePrefix {
  n: number;
  valid: number;
  ones: number;
}

/** One arm × condition, counted naively. */
export interface NaiveCondition {
  n: number;
  valid: number;
  invalid: number;
  ones: number;
  thoughtWords: number;
  suffixWords: number;
  prefixes: Map<string, NaivePrefix>;
}

/** The naive counts of a set of records: per arm, per condition, per prefix. */
export class NaiveStats {
  readonly arms = new Map<string, Map<string, NaiveCondition>>();
  records = 0;
  invalid = 0;
  readonly prefixIds = new Set<string>();

  add(r: Pick<SampleRecord, 'arm' | 'condition' | 'prefixId' | 'reward' | 'thought' | 'suffix'>): void {
    this.records++;
    this.prefixIds.add(r.prefixId);
    let arm = this.arms.get(r.arm);
    if (!arm) this.arms.set(r.arm, (arm = new Map()));
    let c = arm.get(r.condition);
    if (!c) arm.set(r.condition, (c = { n: 0, valid: 0, invalid: 0, ones: 0, thoughtWords: 0, suffixWords: 0, prefixes: new Map() }));
    let p = c.prefixes.get(r.prefixId);
    if (!p) c.prefixes.set(r.prefixId, (p = { n: 0, valid: 0, ones: 0 }));
    c.n++;
    p.n++;
    c.thoughtWords += naiveWords(r.thought);
    c.suffixWords += naiveWords(r.suffix);
    if (r.reward === null) {
      c.invalid++;
      this.invalid++;
      return;
    }
    c.valid++;
    p.valid++;
    c.ones += r.reward;
    p.ones += r.reward;
  }

  condition(arm: string, condition: string): NaiveCondition {
    const c = this.arms.get(arm)?.get(condition);
    if (!c) throw new Error(`no records of ${arm} / ${condition}`);
    return c;
  }

  /** The mean valid reward of a prefix under an arm × condition, or null when it has no valid record. */
  prefixMean(arm: string, condition: string, prefixId: string): number | null {
    const p = this.condition(arm, condition).prefixes.get(prefixId);
    return p && p.valid > 0 ? p.ones / p.valid : null;
  }

  /** The metrics of one arm × condition, as EXPERIMENT.md defines them. */
  metrics(arm: string, condition: string) {
    const c = this.condition(arm, condition);
    const withValid = [...c.prefixes.values()].filter((p) => p.valid > 0);
    return {
      n: c.n,
      valid: c.valid,
      invalid: c.invalid,
      invalidJudgeRate: c.invalid / c.n,
      rewardMean: c.valid === 0 ? null : c.ones / c.valid,
      anySuccessPrefixRate: withValid.length === 0 ? null : withValid.filter((p) => p.ones > 0).length / withValid.length,
      avgThoughtWords: c.thoughtWords / c.n,
      avgSuffixWords: c.suffixWords / c.n,
      prefixes: withValid.length,
    };
  }

  /**
   * The prefix-level sensitivity of normal_model_thought over `condition`: over prefixes with a valid record under
   * both, the mean of p_normal − p_condition, and the counts of positive, negative and zero differences.
   */
  sensitivity(arm: string, condition: string, only?: ReadonlySet<string>) {
    const normal = this.condition(arm, 'normal_model_thought');
    let sum = 0;
    let m = 0;
    let wins = 0;
    let losses = 0;
    for (const id of normal.prefixes.keys()) {
      if (only && !only.has(id)) continue;
      const a = this.prefixMean(arm, 'normal_model_thought', id);
      const b = this.prefixMean(arm, condition, id);
      if (a === null || b === null) continue;
      const d = a - b;
      sum += d;
      m++;
      if (d > 0) wins++;
      else if (d < 0) losses++;
    }
    return { mean: m === 0 ? null : sum / m, prefixes: m, wins, losses, ties: m - wins - losses };
  }
}

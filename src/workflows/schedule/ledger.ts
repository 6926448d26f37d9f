import { CONDITIONS, type Condition } from '../../experiment/conditions';
import { planCounts } from '../../experiment/plan';
import type { ArmProgress, CompactRecord, JudgeResult, SampleFailure } from './types';

/** What one arm has finished: counts per stage, the records, the samples that failed, running reward means. */
export class ArmLedger {
  private readonly done = { thought: 0, suffix: 0, judge: 0 };
  private readonly totals: { thought: number; suffix: number; judge: number };
  readonly records: CompactRecord[] = [];
  readonly failures: SampleFailure[] = [];
  private readonly rewardSums = new Map<string, { judged: number; valid: number; sum: number }>();
  // Word counts of generated suffixes, for records whose judgment came back without them (older activities).
  private readonly words = new Map<string, { thoughtWords: number; suffixWords: number }>();

  constructor(prefixes: number, samples: number, conditions: readonly Condition[]) {
    const c = planCounts(prefixes, samples, conditions);
    this.totals = { thought: c.thoughts, suffix: c.suffixes, judge: c.judgments };
  }

  /** Whether every planned sample has a record or an error. */
  complete(): boolean {
    return this.done.judge + this.failures.length >= this.totals.judge;
  }

  /** A thought request finished (well or not). */
  thoughtDone(): void {
    this.done.thought++;
  }

  /** A suffix request finished; its word counts when it succeeded. */
  suffixDone(key: string, words?: { thoughtWords: number; suffixWords: number }): void {
    this.done.suffix++;
    if (words) this.words.set(key, words);
  }

  /** A sample ended in an error before it could be judged. */
  fail(f: SampleFailure): void {
    this.failures.push(f);
  }

  /** A judgment finished: its record, and the running reward mean of its condition. */
  judged(key: string, r: JudgeResult): void {
    this.done.judge++;
    const sums = this.rewardSums.get(r.condition) ?? { judged: 0, valid: 0, sum: 0 };
    sums.judged++;
    if (r.reward !== null) {
      sums.valid++;
      sums.sum += r.reward;
    }
    this.rewardSums.set(r.condition, sums);
    // A judgment made ahead may finish before the workflow hears of its suffix: its words come with it.
    const w = this.words.get(key);
    this.records.push([
      r.prefixIndex,
      r.sample,
      (CONDITIONS as readonly string[]).indexOf(r.condition),
      r.reward === null ? -1 : r.reward,
      r.thoughtWords ?? w?.thoughtWords ?? 0,
      r.suffixWords ?? w?.suffixWords ?? 0,
    ]);
  }

  /** Progress per stage, with what the scheduler knows of in-flight work and waiting judgments. */
  progress(inFlight: { arm: number; judge: number }, judgmentsWaiting: number): ArmProgress {
    return {
      thought: { done: this.done.thought, total: this.totals.thought },
      suffix: { done: this.done.suffix, total: this.totals.suffix },
      judge: { done: this.done.judge + this.failures.length, total: this.totals.judge },
      judgmentsWaiting,
      inFlight: { ...inFlight },
      errors: this.failures.length,
      rewards: Object.fromEntries(
        [...this.rewardSums].map(([c, r]) => [c, { judged: r.judged, valid: r.valid, mean: r.valid === 0 ? null : r.sum / r.valid }]),
      ),
    };
  }
}

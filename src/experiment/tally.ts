// A run's records reduced, one at a time, to what every statistic of the run needs: per arm × condition × prefix the
// valid rewards in the order they came, per arm × condition the record count and word sums, and the few counts judge
// agreement reads. Its memory grows with prefixes × arms × conditions × samples (a byte or a small number per record),
// never with the records' texts, so a run of any size is summarized in one streaming pass over its store or its
// samples.jsonl. Every statistic is computed from it in the same order of operations as from the records themselves,
// so a summary is the same to the last bit whichever way it was computed. Pure and deterministic (workflows use it).
import type { Judgment } from './agreement';
import { wordCount } from './words';

/** What a tally reads of a record: ids and reward, the texts or their word counts, and any further judgments. */
export interface TallyRecord {
  arm: string;
  condition: string;
  prefixId: string;
  /** The sample index k (read for the run's samples per prefix). */
  sample?: number;
  reward: 0 | 1 | null;
  thought?: string;
  suffix?: string;
  thoughtWords?: number;
  suffixWords?: number;
  prefixIndex?: unknown;
  /** The main judge's judgments, when it judged more than once. */
  judgments?: readonly Judgment[];
  /** Each extra judge's reward and judgments. */
  judges?: Record<string, { reward: 0 | 1 | null; judgments?: readonly Judgment[] }>;
}

/** A growable array of small unsigned integers. */
export class SmallInts {
  private buf = new Uint16Array(16);
  length = 0;

  push(x: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint16Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = x;
  }

  at(i: number): number {
    return this.buf[i]!;
  }
}

/** One prefix's records under one arm × condition: how many, and the valid rewards in order. */
export interface PrefixCell {
  n: number;
  rewards: number[];
}

/** The valid rewards of one judge under one arm × condition: in record order, and by prefix. */
export class RewardCells {
  valid = 0;
  /** The valid rewards in record order. */
  readonly sequence = new SmallInts();
  /** Every prefix with a record, in order of its first record. */
  readonly cells = new Map<string, PrefixCell>();
  /** Prefixes in order of their first valid reward (the order the metrics visit them in). */
  readonly order: string[] = [];

  add(prefixId: string, reward: 0 | 1 | null): void {
    let cell = this.cells.get(prefixId);
    if (!cell) this.cells.set(prefixId, (cell = { n: 0, rewards: [] }));
    cell.n += 1;
    if (reward === null) return;
    if (cell.rewards.length === 0) this.order.push(prefixId);
    cell.rewards.push(reward);
    this.sequence.push(reward);
    this.valid += 1;
  }

  /** The valid rewards of each prefix with any, in the metrics' order. */
  groups(): number[][] {
    return this.order.map((p) => this.cells.get(p)!.rewards);
  }

  /** The mean valid reward of each prefix with any, in the metrics' order. */
  prefixMeans(): Map<string, number> {
    return new Map(this.order.map((p) => {
      const r = this.cells.get(p)!.rewards;
      let s = 0;
      for (const x of r) s += x;
      return [p, s / r.length];
    }));
  }
}

const NO_REWARDS = new RewardCells();

/** One arm × condition. */
export class ConditionTally {
  n = 0;
  thoughtWords = 0;
  suffixWords = 0;
  readonly main = new RewardCells();
  /** The rewards of each extra judge (absent until the judge is first seen). */
  readonly judges = new Map<string, RewardCells>();
  /** Per record with judgments: their number, how many were valid and how many scored 1. */
  readonly repeats = new SmallInts();

  /** The rewards of a judge (the main judge by default); empty for a judge that gave none here. */
  rewards(judge?: string): RewardCells {
    return judge === undefined ? this.main : (this.judges.get(judge) ?? NO_REWARDS);
  }
}

/** One arm: its conditions in order of first appearance, and those with judgments in theirs. */
export class ArmTally {
  readonly conditions = new Map<string, ConditionTally>();
  /** Conditions in order of their first record carrying judgments. */
  readonly judged: string[] = [];
}

/** Two judges' rewards on the suffixes both judged validly, as counts. */
export interface PairCounts {
  n: number;
  agree: number;
  onesA: number;
  onesB: number;
}

/** The tally of a set of records (see the top of this file). */
export class RecordTally {
  readonly arms = new Map<string, ArmTally>();
  /** Every prefix: its smallest prefixIndex (Infinity when none) and the position of its first record. */
  readonly prefixes = new Map<string, { index: number; at: number }>();
  records = 0;
  invalid = 0;
  maxSample = -1;
  /** Whether any record carries more than one judgment of the main judge. */
  repeated = false;
  /** Extra judges in order of first appearance. */
  readonly judgeNames: string[] = [];
  /** Counts of every pair of judges seen together, by `a\u0000b` (a before b in MAIN, judgeNames order). */
  readonly pairs = new Map<string, PairCounts>();

  add(r: TallyRecord): void {
    const at = this.records++;
    if (r.reward === null) this.invalid++;
    if (r.sample !== undefined && r.sample > this.maxSample) this.maxSample = r.sample;
    const index = typeof r.prefixIndex === 'number' && Number.isFinite(r.prefixIndex) ? r.prefixIndex : Infinity;
    const seen = this.prefixes.get(r.prefixId);
    if (!seen) this.prefixes.set(r.prefixId, { index, at });
    else if (index < seen.index) seen.index = index;

    let arm = this.arms.get(r.arm);
    if (!arm) this.arms.set(r.arm, (arm = new ArmTally()));
    let c = arm.conditions.get(r.condition);
    if (!c) arm.conditions.set(r.condition, (c = new ConditionTally()));
    c.n += 1;
    c.thoughtWords += r.thoughtWords ?? wordCount(r.thought ?? '');
    c.suffixWords += r.suffixWords ?? wordCount(r.suffix ?? '');
    c.main.add(r.prefixId, r.reward);

    if (r.judgments) {
      if (!arm.judged.includes(r.condition)) arm.judged.push(r.condition);
      let valid = 0;
      let ones = 0;
      for (const j of r.judgments) {
        if (j.score === null) continue;
        valid++;
        ones += j.score;
      }
      c.repeats.push(r.judgments.length);
      c.repeats.push(valid);
      c.repeats.push(ones);
      if (r.judgments.length > 1) this.repeated = true;
    }

    const extra = r.judges ? Object.keys(r.judges) : [];
    if (extra.length === 0) return;
    for (const name of extra) {
      if (!this.judgeNames.includes(name)) this.judgeNames.push(name);
      let cells = c.judges.get(name);
      // A judge's metrics take the record counts of the condition; only its valid rewards are its own.
      if (!cells) c.judges.set(name, (cells = new RewardCells()));
      cells.add(r.prefixId, r.judges![name]!.reward ?? null);
    }
    const names = ['', ...this.judgeNames];
    const reward = (name: string) => (name === '' ? r.reward : r.judges![name]?.reward);
    for (let i = 0; i < names.length; i++) {
      const a = reward(names[i]!);
      if (a === null || a === undefined) continue;
      for (let k = i + 1; k < names.length; k++) {
        const b = reward(names[k]!);
        if (b === null || b === undefined) continue;
        const id = `${names[i]}\u0000${names[k]}`;
        let p = this.pairs.get(id);
        if (!p) this.pairs.set(id, (p = { n: 0, agree: 0, onesA: 0, onesB: 0 }));
        p.n++;
        if (a === b) p.agree++;
        p.onesA += a;
        p.onesB += b;
      }
    }
  }

  /** Adds every record. */
  addAll(records: Iterable<TallyRecord>): this {
    for (const r of records) this.add(r);
    return this;
  }

  /** Prefix ids in the run's order: by prefixIndex where records carry one, then by first appearance. */
  prefixOrder(): string[] {
    return [...this.prefixes].sort(([, a], [, b]) => a.index - b.index || a.at - b.at).map(([id]) => id);
  }

  /** Arms in order of first appearance. */
  armNames(): string[] {
    return [...this.arms.keys()];
  }
}

/** The tally of records given all at once. */
export function tallyRecords(records: Iterable<TallyRecord>): RecordTally {
  return new RecordTally().addAll(records);
}

// One run's data as `view` serves it, at any size: its config from the store's document and a compact index of its
// planned samples in samples.jsonl's order (arm, condition, prefix, sample), a few bytes each (stored or not, reward,
// valid judgment, word counts), filled from the store a page at a time and topped up with what was stored since, so a
// running run shows its progress. Filters and paging are answered from the index; texts are read from the store for
// the page shown only; a search goes to the store (SQL in PostgreSQL). A completed run whose arms reported failed
// samples shows them as samples.jsonl does: a record with the error and no reward.
import type { DatasetRow, RunConfig } from '../config/schema';
import { sampleKey } from '../experiment/keys';
import { conditionNames } from '../experiment/interventions';
import { orderConditions } from '../experiment/metrics';
import type { SampleRecord } from '../experiment/records';
import { summaryOfTally, type Summary } from '../experiment/summary';
import { RecordTally } from '../experiment/tally';
import { wordCount } from '../experiment/words';
import { armConditions, failedRecord, type PlannedSample } from '../activities/runRecords';
import type { RecordEntry } from '../activities/judge';
import type { RunStore } from '../store';
import type { FailedSample } from './catalog';

/** Keys read from the store in one request while the index is filled. */
const FILL_PAGE = 2048;

// What the index knows of a planned sample.
const ABSENT = 0;
const STORED = 1;
const FAILED = 2;
// Reward codes: 0, 1, and this for none.
const NO_REWARD = 2;

/** Where a run's planned samples are: arm by arm, condition by condition, prefix by prefix, sample by sample. */
class Plan {
  readonly arms: string[];
  readonly armConditions: string[][];
  readonly base: number[] = [];
  readonly total: number;
  readonly prefixIndex: Map<string, number>;

  constructor(readonly config: RunConfig, readonly rows: DatasetRow[]) {
    this.arms = config.arms.map((a) => a.name);
    this.armConditions = this.arms.map((a) => armConditions(config, a));
    let n = 0;
    for (const conds of this.armConditions) {
      this.base.push(n);
      n += conds.length * rows.length * config.samplesPerPrefix;
    }
    this.total = n;
    this.prefixIndex = new Map(rows.map((r, i) => [r.id, i]));
  }

  /** The position of (arm, condition, prefix, sample), or undefined when the run plans no such sample. */
  position(arm: string, condition: string, prefixId: string, sample: number): number | undefined {
    const a = this.arms.indexOf(arm);
    const c = a < 0 ? -1 : this.armConditions[a]!.indexOf(condition);
    const i = this.prefixIndex.get(prefixId);
    const K = this.config.samplesPerPrefix;
    if (c < 0 || i === undefined || !(Number.isInteger(sample) && sample >= 0 && sample < K)) return undefined;
    return this.base[a]! + (c * this.rows.length + i) * K + sample;
  }

  /** The planned sample at a position. */
  at(position: number): PlannedSample {
    let a = this.base.length - 1;
    while (this.base[a]! > position) a--;
    const K = this.config.samplesPerPrefix;
    const offset = position - this.base[a]!;
    const sample = offset % K;
    const i = Math.floor(offset / K) % this.rows.length;
    const c = Math.floor(offset / K / this.rows.length);
    const condition = this.armConditions[a]![c]!;
    const prefixId = this.rows[i]!.id;
    return { arm: this.arms[a]!, condition, prefixIndex: i, prefixId, sample, key: sampleKey(prefixId, sample, condition) };
  }
}

/** What `view` knows of a run's samples at one moment. */
export interface RunSnapshot {
  config: RunConfig;
  rows: DatasetRow[];
  /** Every condition of the run, in report order. */
  conditions: string[];
  /** Records in the store. */
  stored: number;
  /** Records the finished run will have: arms × conditions × prefixes × samples. */
  planned: number;
  /** Samples the browser lists: those stored, or for a completed run every planned one (failed ones with their error). */
  total: number;
  /** Planned positions, in samples.jsonl's order. */
  positions: number;
  /** Whether the browser lists the sample at a position. */
  listed(position: number): boolean;
  /** The planned sample at a position. */
  sampleAt(position: number): PlannedSample;
  /** The reward at a position (null: invalid, failed or not stored). */
  reward(position: number): 0 | 1 | null;
  /** Whether the judgment at a position was valid. */
  valid(position: number): boolean;
  /** The listed position of (arm, condition, prefix id, sample), or undefined. */
  find(arm: string, condition: string, prefixId: string, sample: number): number | undefined;
  /** The records at these positions, read from the store (failed samples as samples.jsonl has them). */
  records(positions: readonly number[]): Promise<SampleRecord[]>;
  /** Marks the positions whose thought or suffix holds every (lowercased) term. */
  search(terms: readonly string[]): Promise<Uint8Array>;
}

/** Reads and caches one run's index and summary from its store. */
export class RunData {
  private plan?: Plan;
  private state?: Uint8Array;
  private rewards?: Uint8Array;
  private valids?: Uint8Array;
  private thoughtWords?: Uint32Array;
  private suffixWords?: Uint32Array;
  private simulated = false;
  private errors = new Map<number, string>();
  private snapshot?: RunSnapshot;
  private version?: string;
  private summaryOf?: { snapshot: RunSnapshot; summary: Summary; tally: RecordTally };
  private searches = new Map<string, Uint8Array>();

  constructor(
    readonly runId: string,
    private readonly store: RunStore,
  ) {}

  /**
   * The run's samples as stored now; undefined before the run's document (its config) is in the store. `failed`,
   * for a completed run, fills every planned sample without a record (as writeArtifacts does).
   */
  async read(failed?: () => Promise<FailedSample[]>): Promise<RunSnapshot | undefined> {
    if (!this.plan) {
      const doc = await this.store.readDocument();
      if (!doc) return undefined;
      const plan = new Plan(doc.config, doc.config.dataset.rows ?? []);
      this.plan = plan;
      this.state = new Uint8Array(plan.total);
      this.rewards = new Uint8Array(plan.total).fill(NO_REWARD);
      this.valids = new Uint8Array(plan.total);
      this.thoughtWords = new Uint32Array(plan.total);
      this.suffixWords = new Uint32Array(plan.total);
    }
    const plan = this.plan;
    const counts = await Promise.all(plan.arms.map((a) => this.store.count(a, 'records')));
    const count = counts.reduce((n, c) => n + c, 0);
    const version = `${count}|${failed ? 'complete' : 'stored'}`;
    if (this.snapshot && this.version === version) return this.snapshot;
    await this.fill();
    if (failed) {
      const errors = new Map((await failed()).map((e) => [plan.position(e.arm, e.condition, plan.rows[e.prefixIndex]?.id ?? '', e.sample), e.error]));
      for (let p = 0; p < plan.total; p++) {
        if (this.state![p] === STORED) continue;
        this.state![p] = FAILED;
        const error = errors.get(p);
        if (error !== undefined) this.errors.set(p, error);
      }
    }
    let stored = 0;
    let listed = 0;
    for (let p = 0; p < plan.total; p++) {
      if (this.state![p] === STORED) stored++;
      if (this.state![p] !== ABSENT) listed++;
    }
    this.version = version;
    this.searches = new Map();
    const state = this.state!;
    const rewards = this.rewards!;
    const valids = this.valids!;
    this.snapshot = {
      config: plan.config,
      rows: plan.rows,
      conditions: orderConditions(conditionNames(plan.config.conditions)),
      stored,
      planned: plan.total,
      total: listed,
      positions: plan.total,
      listed: (p) => state[p] !== ABSENT,
      sampleAt: (p) => plan.at(p),
      reward: (p) => (rewards[p] === NO_REWARD ? null : (rewards[p] as 0 | 1)),
      valid: (p) => valids[p] === 1,
      find: (arm, condition, prefixId, sample) => {
        const p = plan.position(arm, condition, prefixId, sample);
        return p !== undefined && state[p] !== ABSENT ? p : undefined;
      },
      records: (positions) => this.recordsAt(positions),
      search: (terms) => this.search(terms),
    };
    return this.snapshot;
  }

  /** Reads the records stored since the last look into the index (only the positions not stored yet are asked for). */
  private async fill(): Promise<void> {
    const plan = this.plan!;
    const state = this.state!;
    for (let a = 0; a < plan.arms.length; a++) {
      const end = a + 1 < plan.base.length ? plan.base[a + 1]! : plan.total;
      let page: { p: number; key: string }[] = [];
      const flush = async () => {
        const found = await this.store.lookup<RecordEntry>(plan.arms[a]!, 'records', page.map((x) => x.key));
        for (const { p, key } of page) {
          const r = found.get(key);
          if (!r) continue;
          state[p] = STORED;
          this.errors.delete(p);
          this.rewards![p] = r.reward === null ? NO_REWARD : r.reward;
          this.valids![p] = r.judge?.valid === true ? 1 : 0;
          this.thoughtWords![p] = wordCount(r.thought);
          this.suffixWords![p] = wordCount(r.suffix);
          this.simulated ||= r.simulated === true;
        }
        page = [];
      };
      for (let p = plan.base[a]!; p < end; p++) {
        if (state[p] === STORED) continue;
        page.push({ p, key: plan.at(p).key });
        if (page.length >= FILL_PAGE) await flush();
      }
      if (page.length) await flush();
    }
  }

  private async recordsAt(positions: readonly number[]): Promise<SampleRecord[]> {
    const plan = this.plan!;
    const byArm = new Map<string, string[]>();
    const samples = positions.map((p) => plan.at(p));
    for (const s of samples) byArm.set(s.arm, [...(byArm.get(s.arm) ?? []), s.key]);
    const found = new Map<string, Map<string, RecordEntry>>();
    for (const [arm, keys] of byArm) found.set(arm, await this.store.lookup<RecordEntry>(arm, 'records', keys));
    return samples.map((s, i) => {
      const hit = found.get(s.arm)?.get(s.key);
      if (hit) {
        const { key: _key, ...record } = hit;
        return record;
      }
      return failedRecord(this.runId, s, this.errors.get(positions[i]!));
    });
  }

  private async search(terms: readonly string[]): Promise<Uint8Array> {
    const id = terms.join('\u0000');
    const cached = this.searches.get(id);
    if (cached) return cached;
    const plan = this.plan!;
    const hits = new Uint8Array(plan.total);
    for (const arm of plan.arms) {
      for (const key of await this.store.searchRecords(arm, terms)) {
        const r = /^(.*)\/(\d+)\/([^/]*)$/.exec(key);
        // Keys are `prefixId/sample/condition` (experiment/keys); any other key is not a planned sample.
        const p = r ? plan.position(arm, r[3]!, r[1]!, Number(r[2])) : undefined;
        if (p !== undefined) hits[p] = 1;
      }
    }
    // A few recent searches are kept, so paging through one does not search again.
    if (this.searches.size >= 8) this.searches.delete(this.searches.keys().next().value!);
    this.searches.set(id, hits);
    return hits;
  }

  /** The summary of a snapshot's samples (the numbers so far for a running run), and the tally the charts read. */
  summary(s: RunSnapshot): { summary: Summary; tally: RecordTally } {
    if (this.summaryOf?.snapshot !== s) {
      const plan = this.plan!;
      const tally = new RecordTally();
      for (let p = 0; p < plan.total; p++) {
        if (this.state![p] === ABSENT) continue;
        const at = plan.at(p);
        tally.add({ arm: at.arm, condition: at.condition, prefixId: at.prefixId, prefixIndex: at.prefixIndex, sample: at.sample, reward: s.reward(p), thoughtWords: this.thoughtWords![p]!, suffixWords: this.suffixWords![p]! });
      }
      const computed = summaryOfTally(tally, { runId: this.runId, armOrder: plan.arms, seed: plan.config.seed });
      this.summaryOf = { snapshot: s, tally, summary: { ...computed, simulated: this.simulated } };
    }
    return { summary: this.summaryOf.summary, tally: this.summaryOf.tally };
  }
}

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
  /** Whether the run completed (then every planned sample is listed). */
  complete: boolean;
  /** Tops up the index from the store: `listed` (of a running run), `reward` and `valid` read it. */
  ready(): Promise<void>;
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
    const complete = failed !== undefined;
    const version = `${count}|${complete ? 'complete' : 'stored'}`;
    if (this.snapshot && this.version === version) return this.snapshot;
    this.version = version;
    this.searches = new Map();
    const state = this.state!;
    const rewards = this.rewards!;
    const valids = this.valids!;
    // The index is topped up when first needed (a filter, a search, the run page), not to count or to list a
    // completed run's samples in order: those need only the plan.
    let ready: Promise<void> | undefined;
    const snapshot: RunSnapshot = {
      config: plan.config,
      rows: plan.rows,
      conditions: orderConditions(conditionNames(plan.config.conditions)),
      stored: count,
      planned: plan.total,
      total: complete ? plan.total : count,
      complete,
      positions: plan.total,
      ready: () => (ready ??= this.topUp(failed).catch((e: unknown) => {
        ready = undefined;
        throw e;
      })),
      listed: (p) => complete || state[p] !== ABSENT,
      sampleAt: (p) => plan.at(p),
      reward: (p) => (rewards[p] === NO_REWARD ? null : (rewards[p] as 0 | 1)),
      valid: (p) => valids[p] === 1,
      find: (arm, condition, prefixId, sample) => {
        const p = plan.position(arm, condition, prefixId, sample);
        return p !== undefined && (complete || state[p] !== ABSENT) ? p : undefined;
      },
      records: (positions) => this.recordsAt(positions, failed),
      search: (terms) => this.search(terms),
    };
    this.snapshot = snapshot;
    return snapshot;
  }

  /** Reads what was stored since into the index, and for a completed run marks the samples that failed. */
  private async topUp(failed?: () => Promise<FailedSample[]>): Promise<void> {
    await this.fill();
    if (failed) {
      await this.failedErrors(failed);
      for (let p = 0; p < this.plan!.total; p++) if (this.state![p] !== STORED) this.state![p] = FAILED;
    }
  }

  private errorsRead?: Promise<void>;

  /** The errors of a completed run's failed samples, from its arms' results (read once: they never change). */
  private failedErrors(failed: () => Promise<FailedSample[]>): Promise<void> {
    const plan = this.plan!;
    return (this.errorsRead ??= failed().then((list) => {
      for (const e of list) {
        const p = plan.position(e.arm, e.condition, plan.rows[e.prefixIndex]?.id ?? '', e.sample);
        if (p !== undefined) this.errors.set(p, e.error);
      }
    }, (e: unknown) => {
      this.errorsRead = undefined;
      throw e;
    }));
  }

  /** Reads the records stored since the last look into the index (only the positions not stored yet are asked for). */
  private async fill(): Promise<void> {
    const plan = this.plan!;
    const state = this.state!;
    const K = plan.config.samplesPerPrefix;
    for (let a = 0; a < plan.arms.length; a++) {
      let page: { p: number; key: string }[] = [];
      const flush = async () => {
        const found = await this.store.lookup<RecordEntry>(plan.arms[a]!, 'records', page.map((x) => x.key));
        for (const { p, key } of page) {
          const r = found.get(key);
          if (r) this.note(p, r);
        }
        page = [];
      };
      const end = a + 1 < plan.base.length ? plan.base[a + 1]! : plan.total;
      let none = true;
      for (let p = plan.base[a]!; p < end && none; p++) none = state[p] !== STORED;
      if (none) {
        // Nothing of this arm read yet: one pass over its stored records, in the store's order.
        for await (const page of this.store.scan<RecordEntry>(plan.arms[a]!, 'records', FILL_PAGE)) {
          for (const r of page) {
            const p = plan.position(r.arm ?? plan.arms[a]!, r.condition, r.prefixId, r.sample);
            if (p === undefined || p < plan.base[a]! || p >= end) continue;
            this.note(p, r);
          }
        }
        continue;
      }
      let p = plan.base[a]!;
      for (const condition of plan.armConditions[a]!) {
        for (const row of plan.rows) {
          for (let k = 0; k < K; k++, p++) {
            if (state[p] === STORED) continue;
            page.push({ p, key: sampleKey(row.id, k, condition) });
            if (page.length >= FILL_PAGE) await flush();
          }
        }
      }
      if (page.length) await flush();
    }
  }

  /** Notes a stored record at its position. */
  private note(p: number, r: RecordEntry): void {
    this.state![p] = STORED;
    this.errors.delete(p);
    this.rewards![p] = r.reward === null ? NO_REWARD : r.reward;
    this.valids![p] = r.judge?.valid === true ? 1 : 0;
    this.thoughtWords![p] = wordCount(r.thought);
    this.suffixWords![p] = wordCount(r.suffix);
    this.simulated ||= r.simulated === true;
  }

  private async recordsAt(positions: readonly number[], failed?: () => Promise<FailedSample[]>): Promise<SampleRecord[]> {
    const plan = this.plan!;
    const byArm = new Map<string, string[]>();
    const samples = positions.map((p) => plan.at(p));
    for (const s of samples) byArm.set(s.arm, [...(byArm.get(s.arm) ?? []), s.key]);
    const found = new Map<string, Map<string, RecordEntry>>();
    for (const [arm, keys] of byArm) found.set(arm, await this.store.lookup<RecordEntry>(arm, 'records', keys));
    if (failed && samples.some((s) => !found.get(s.arm)?.has(s.key))) await this.failedErrors(failed);
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
  async summary(s: RunSnapshot): Promise<{ summary: Summary; tally: RecordTally }> {
    await s.ready();
    if (this.summaryOf?.snapshot !== s) {
      const plan = this.plan!;
      const tally = new RecordTally();
      const K = plan.config.samplesPerPrefix;
      let p = 0;
      plan.arms.forEach((arm, a) => {
        for (const condition of plan.armConditions[a]!) {
          plan.rows.forEach((row, i) => {
            for (let k = 0; k < K; k++, p++) {
              if (this.state![p] === ABSENT) continue;
              tally.add({ arm, condition, prefixId: row.id, prefixIndex: i, sample: k, reward: s.reward(p), thoughtWords: this.thoughtWords![p]!, suffixWords: this.suffixWords![p]! });
            }
          });
        }
      });
      const computed = summaryOfTally(tally, { runId: this.runId, armOrder: plan.arms, seed: plan.config.seed });
      this.summaryOf = { snapshot: s, tally, summary: { ...computed, simulated: this.simulated } };
    }
    return { summary: this.summaryOf.summary, tally: this.summaryOf.tally };
  }
}

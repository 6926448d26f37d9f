// One run's data as `view` serves it: its config from the store's document, and the records stored so far in the
// order of samples.jsonl (arm, condition, prefix, sample), read again on every request so that a running run
// shows what has been stored since; the summary is recomputed only when the records changed. A completed run whose
// arms reported failed samples shows them as samples.jsonl does: a record with the error and no reward.
import type { DatasetRow, RunConfig } from '../config/schema';
import { sampleKey } from '../experiment/keys';
import { armConditionEntries, conditionNames } from '../experiment/interventions';
import { orderConditions, scoreRecord } from '../experiment/metrics';
import type { SampleRecord } from '../experiment/records';
import { buildSummary, type Summary } from '../experiment/summary';
import type { RunStore } from '../store';
import type { FailedSample } from './catalog';

/** What `view` knows of a run's records at one moment. */
export interface RunSnapshot {
  config: RunConfig;
  rows: DatasetRow[];
  conditions: string[];
  /** Records stored so far, in samples.jsonl's order (for a completed run, with its failed samples). */
  records: SampleRecord[];
  /** Records in the store. */
  stored: number;
  /** Records the finished run will have: arms × conditions × prefixes × samples. */
  planned: number;
  /** Lowercased thought and suffix of each record, for full-text search. */
  haystack(i: number): string;
  /** The position of a record by (arm, condition, prefix id, sample), or undefined. */
  find(arm: string, condition: string, prefixId: string, sample: number): number | undefined;
}

/** Reads and caches one run's snapshot and summary from its store. */
export class RunData {
  private snapshot?: RunSnapshot;
  private version?: string;
  private summaryOf?: { snapshot: RunSnapshot; summary: Summary };

  constructor(
    readonly runId: string,
    private readonly store: RunStore,
  ) {}

  /**
   * The run's records as stored now; undefined before the run's document (its config) is in the store. `failed`,
   * for a completed run, fills every planned sample without a record (as writeArtifacts does).
   */
  async read(failed?: () => Promise<FailedSample[]>): Promise<RunSnapshot | undefined> {
    const doc = this.snapshot ? { config: this.snapshot.config } : await this.store.readDocument();
    if (!doc) return undefined;
    const config = doc.config;
    const stored = await Promise.all(config.arms.map((a) => this.store.all<SampleRecord & { key: string }>(a.name, 'records')));
    const count = stored.reduce((n, s) => n + s.length, 0);
    const version = `${count}|${failed ? 'complete' : 'stored'}`;
    if (this.snapshot && this.version === version) return this.snapshot;
    const errors = new Map((failed ? await failed() : []).map((e) => [`${e.arm}\u0000${sampleKey(config.dataset.rows?.[e.prefixIndex]?.id ?? '', e.sample, e.condition)}`, e.error]));
    const rows = config.dataset.rows ?? [];
    const names = conditionNames(config.conditions);
    const records: SampleRecord[] = [];
    config.arms.forEach((arm, a) => {
      // An arm runs the conditions meant for it (a transplant is not run on the arm it comes from), as samples.jsonl has them.
      const conditions = orderConditions(conditionNames(armConditionEntries(config.conditions, arm.name)), names);
      const byKey = new Map(stored[a]!.map((r) => [r.key, r]));
      for (const condition of conditions) {
        rows.forEach((row, i) => {
          for (let k = 0; k < config.samplesPerPrefix; k++) {
            const key = sampleKey(row.id, k, condition);
            const hit = byKey.get(key);
            if (hit) {
              const { key: _key, ...record } = hit;
              records.push(record);
            } else if (failed) {
              records.push({
                runId: this.runId, arm: arm.name, condition, prefixId: row.id, prefixIndex: i, sample: k, thought: '', suffix: '', reward: null,
                judge: { valid: false, raw: '', attempts: 0 }, thoughtSource: null, closedThought: null,
                error: errors.get(`${arm.name}\u0000${key}`) ?? 'no record was produced for this sample',
              });
            }
          }
        });
      }
    });
    const positions = new Map(records.map((r, i) => [`${r.arm}\u0000${r.condition}\u0000${r.prefixId}\u0000${r.sample}`, i]));
    const lower: string[] = [];
    this.version = version;
    this.snapshot = {
      config,
      rows,
      conditions: orderConditions(names),
      records,
      stored: count,
      planned: config.arms.reduce((n, arm) => n + conditionNames(armConditionEntries(config.conditions, arm.name)).length, 0) * rows.length * config.samplesPerPrefix,
      haystack: (i) => (lower[i] ??= `${records[i]!.thought}\u0000${records[i]!.suffix}`.toLowerCase()),
      find: (arm, condition, prefixId, sample) => positions.get(`${arm}\u0000${condition}\u0000${prefixId}\u0000${sample}`),
    };
    return this.snapshot;
  }

  /** The summary of a snapshot's records (the numbers so far for a running run). */
  summary(s: RunSnapshot): Summary {
    if (this.summaryOf?.snapshot !== s) {
      const computed = buildSummary(s.records.map(scoreRecord), { runId: this.runId, armOrder: s.config.arms.map((a) => a.name), seed: s.config.seed });
      this.summaryOf = { snapshot: s, summary: { ...computed, simulated: s.records.some((r) => r.simulated === true) } };
    }
    return this.summaryOf.summary;
  }
}

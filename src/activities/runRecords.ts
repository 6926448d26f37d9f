// A run's records as samples.jsonl orders them (arm, condition in the experiment's order, prefix, sample), read from
// its store a page at a time so that no more than a page is in memory: what writeArtifacts, `export`, `power --run`
// and `view` pass over. A planned sample without a record is given by `missing` (or skipped when it gives nothing).
import type { RunConfig } from '../config/schema';
import { armConditionEntries, conditionNames } from '../experiment/interventions';
import { sampleKey } from '../experiment/keys';
import { orderConditions } from '../experiment/metrics';
import type { SampleRecord } from '../experiment/records';
import type { RunStore } from '../store';
import type { RecordEntry } from './judge';

/** Prefixes whose records are read from the store in one request. */
export const PAGE_PREFIXES = 256;

/** A planned sample: its arm, condition, prefix (index and id), sample and store key. */
export interface PlannedSample {
  arm: string;
  condition: string;
  prefixIndex: number;
  prefixId: string;
  sample: number;
  key: string;
}

/** The conditions an arm runs, in samples.jsonl's order (a transplant is not run on the arm it comes from). */
export function armConditions(config: RunConfig, arm: string): string[] {
  return orderConditions(conditionNames(armConditionEntries(config.conditions, arm)), conditionNames(config.conditions));
}

/** Records a run will have in all: arms × their conditions × prefixes × samples. */
export function plannedRecords(config: RunConfig): number {
  return config.arms.reduce((n, arm) => n + armConditions(config, arm.name).length, 0) * config.dataset.rows!.length * config.samplesPerPrefix;
}

/** Every record of a run in samples.jsonl's order, stored ones as stored (without their key), the rest from `missing`. */
export async function* storedRecords(
  store: RunStore,
  config: RunConfig,
  missing: (s: PlannedSample) => SampleRecord | undefined = () => undefined,
): AsyncGenerator<SampleRecord & { runId: string }> {
  const rows = config.dataset.rows!;
  for (const arm of config.arms) {
    for (const condition of armConditions(config, arm.name)) {
      for (let from = 0; from < rows.length; from += PAGE_PREFIXES) {
        const page: PlannedSample[] = [];
        for (let i = from; i < Math.min(rows.length, from + PAGE_PREFIXES); i++) {
          for (let k = 0; k < config.samplesPerPrefix; k++) page.push({ arm: arm.name, condition, prefixIndex: i, prefixId: rows[i]!.id, sample: k, key: sampleKey(rows[i]!.id, k, condition) });
        }
        const stored = await store.lookup<RecordEntry>(arm.name, 'records', page.map((p) => p.key));
        for (const p of page) {
          const hit = stored.get(p.key);
          if (hit) {
            const { key: _key, ...record } = hit;
            yield record;
          } else {
            const filled = missing(p);
            if (filled) yield filled;
          }
        }
      }
    }
  }
}

/** The record of a planned sample that produced none: no texts, no reward, and the error that says why. */
export function failedRecord(runId: string, s: PlannedSample, error: string | undefined): SampleRecord {
  return {
    runId, arm: s.arm, condition: s.condition, prefixId: s.prefixId, prefixIndex: s.prefixIndex, sample: s.sample, thought: '', suffix: '',
    reward: null, judge: { valid: false, raw: '', attempts: 0 }, thoughtSource: null, closedThought: null,
    error: error ?? 'no record was produced for this sample',
  };
}

// A run of any size written straight into a file store through the RunStore API, with the records the simulated
// endpoints would have produced (src/sim/records): how the view tests and the report benchmark get a 10x run's
// store and artifacts without 80,000 model calls. The Temporal side (the run's workflow) is up to the caller.
import { join } from 'node:path';
import type { RunConfig, DatasetRow } from '../../src/config/schema';
import { parseRunConfig } from '../../src/config/validate';
import type { SampleRecord } from '../../src/experiment/records';
import { simulatedRecords, recordKey } from '../../src/sim/records';
import { FileRunStore, type RunStore } from '../../src/store';
import { configHash } from '../../src/config/load';
import { heldoutRows } from './configs';

/** The note's arms. */
export const LARGE_ARMS = ['think_base', 'think_phase3', 'think_base_rlmt', 'think_phase3_rlmt'];

/** n distinct rows from the held-out passages: each passage in several numbered parts (as bench/scale does). */
export function scaledRows(n: number): DatasetRow[] {
  const base = heldoutRows();
  const rows: DatasetRow[] = [];
  for (let v = 0; rows.length < n; v++) {
    for (const r of base) {
      if (rows.length >= n) break;
      rows.push({ id: `${r.id}-p${v}`, prefix: `Part ${v + 1}. ${r.prefix}`, suffix: r.suffix, sourceId: r.id });
    }
  }
  return rows;
}

/** The note's shape (4 arms x 4 conditions x 4 samples) over `prefixes` prefixes: 320 is the 10x run (20,480 records). */
export function largeRunConfig(name: string, prefixes: number, outDir: string): RunConfig {
  const rows = scaledRows(prefixes);
  return parseRunConfig({
    name,
    dataset: { rows, limit: rows.length },
    samplesPerPrefix: 4,
    conditions: ['normal_model_thought', 'blank_thought', 'generic_thought', 'same_arm_swapped_thought'],
    arms: LARGE_ARMS.map((a) => ({ name: a, baseURL: 'http://127.0.0.1:9/v1', model: a, maxConcurrency: 16 })),
    judge: { baseURL: 'http://127.0.0.1:9/v1', model: 'qwen-judge', maxConcurrency: 32 },
    output: { dir: outDir },
  });
}

/**
 * Writes a run's document and its records into a store (by default its file store, `<output.dir>/<runId>`);
 * returns the run directory and the records. `records` picks which of them to write (all by default).
 */
export async function writeLargeRun(
  config: RunConfig,
  runId: string,
  opts: { store?: RunStore; records?: (all: SampleRecord[]) => SampleRecord[] } = {},
): Promise<{ dir: string; records: SampleRecord[] }> {
  const dir = join(config.output.dir, runId);
  const store = opts.store ?? new FileRunStore(dir);
  await store.writeDocument({ runId, configHash: configHash(config), resumedFrom: [], reused: {}, config });
  const all = simulatedRecords(config, runId, { judgeInvalidRate: 0.02 });
  const records = opts.records ? opts.records(all) : all;
  for (const r of records) await store.put(r.arm, 'records', { key: recordKey(r), ...r });
  if (!opts.store) store.close();
  return { dir, records };
}

/** Stores more records of a run (a running run going on). */
export async function storeRecords(store: RunStore, records: SampleRecord[]): Promise<void> {
  for (const r of records) await store.put(r.arm, 'records', { key: recordKey(r), ...r });
}

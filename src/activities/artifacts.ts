import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { RunConfig } from '../config/schema';
import { configHash } from '../config/load';
import { orderConditions } from '../experiment/metrics';
import { renderReport } from '../experiment/report';
import type { SampleRecord } from '../experiment/records';
import type { Summary } from '../experiment/summary';
import { sampleKey } from './generate';
import type { RecordEntry } from './judge';
import { storeFor, writeFileAtomic } from './store';

/** Input of prepareRun: where the run's files go and the config they come from. */
export interface PrepareRunInput {
  storeDir: string;
  runId: string;
  config: RunConfig;
}

/** Writes config.json (the resolved config and its hash) into the run directory; the store's activities read it. */
export async function prepareRun(input: PrepareRunInput): Promise<{ configHash: string }> {
  const hash = configHash(input.config);
  await mkdir(input.storeDir, { recursive: true });
  const file = join(input.storeDir, 'config.json');
  try {
    const existing = JSON.parse(await readFile(file, 'utf8')) as { configHash: string };
    if (existing.configHash !== hash) {
      throw ApplicationFailure.nonRetryable(
        `${input.storeDir} already holds a run with a different config (${existing.configHash}); choose another run name or output.dir`,
        'RunDirectoryConflict',
      );
    }
    return { configHash: hash };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  // Configs name environment variables for keys and never hold secrets themselves.
  await writeFileAtomic(file, `${JSON.stringify({ runId: input.runId, configHash: hash, config: input.config }, null, 2)}\n`);
  return { configHash: hash };
}

/** A sample that ended in an error before it could be judged. */
export interface SampleError {
  arm: string;
  prefixIndex: number;
  sample: number;
  condition: string;
  error: string;
}

/** Input of writeArtifacts: the summary computed by the workflow, the swaps and the samples that failed. */
export interface WriteArtifactsInput {
  storeDir: string;
  runId: string;
  summary: Summary;
  swaps: Record<string, { prefixId: string; thoughtFrom: string }[]>;
  errors: SampleError[];
}

/** Where the artifacts of a run were written. */
export interface ArtifactPaths {
  dir: string;
  samples: string;
  summary: string;
  report: string;
  config: string;
  swap: string;
}

/** Writes samples.jsonl (one record per arm x condition x prefix x sample, unique), summary.json, report.md and swap.json. */
export async function writeArtifacts(input: WriteArtifactsInput): Promise<ArtifactPaths> {
  const store = storeFor(input.storeDir);
  const config = await store.runConfig();
  const rows = config.dataset.rows!;
  const conditions = orderConditions(config.conditions);
  const errors = new Map(input.errors.map((e) => [`${e.arm}\u0000${sampleKey(rows[e.prefixIndex]!.id, e.sample, e.condition)}`, e]));
  const lines: string[] = [];
  let simulated = false;
  for (const arm of config.arms) {
    const stored = new Map((await store.all<RecordEntry>(arm.name, 'records')).map((r) => [r.key, r]));
    for (const condition of conditions) {
      for (let i = 0; i < rows.length; i++) {
        for (let k = 0; k < config.samplesPerPrefix; k++) {
          const key = sampleKey(rows[i]!.id, k, condition);
          const hit = stored.get(key);
          let record: SampleRecord;
          if (hit) {
            const { key: _key, ...rest } = hit;
            record = rest;
            simulated ||= hit.simulated === true;
          } else {
            const e = errors.get(`${arm.name}\u0000${key}`);
            record = {
              runId: input.runId, arm: arm.name, condition, prefixId: rows[i]!.id, prefixIndex: i, sample: k, thought: '', suffix: '',
              reward: null, judge: { valid: false, raw: '', attempts: 0 }, thoughtSource: null, closedThought: null,
              error: e?.error ?? 'no record was produced for this sample',
            };
          }
          lines.push(JSON.stringify(record));
        }
      }
    }
  }
  const summary: Summary = { ...input.summary, simulated: input.summary.simulated || simulated, config: redactRows(config), configHash: configHash(config) };
  const paths: ArtifactPaths = {
    dir: input.storeDir,
    samples: join(input.storeDir, 'samples.jsonl'),
    summary: join(input.storeDir, 'summary.json'),
    report: join(input.storeDir, 'report.md'),
    config: join(input.storeDir, 'config.json'),
    swap: join(input.storeDir, 'swap.json'),
  };
  await writeFileAtomic(paths.samples, `${lines.join('\n')}\n`);
  await writeFileAtomic(paths.swap, `${JSON.stringify(input.swaps, null, 2)}\n`);
  await writeFileAtomic(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  await writeFileAtomic(paths.report, renderReport(summary));
  return paths;
}

function redactRows(config: RunConfig): unknown {
  // summary.json names the rows; their texts are in config.json.
  return { ...config, dataset: { ...config.dataset, rows: undefined, rowIds: config.dataset.rows!.map((r) => r.id) } };
}

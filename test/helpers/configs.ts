import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunConfig, RunConfigInput, DatasetRow } from '../../src/config/schema';
import { parseRunConfig } from '../../src/config/validate';

const root = join(__dirname, '..', '..');

/** The committed held-out rows. */
export function heldoutRows(): DatasetRow[] {
  return readFileSync(join(root, 'examples/data/heldout.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as DatasetRow);
}

/** A fresh output directory under the system's temp folder. */
export function tempDir(prefix = 'tp-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A resolved config against one simulated server, overridable per test. */
export function simConfig(url: string, over: Partial<RunConfigInput> & { armNames?: string[] } = {}): RunConfig {
  const { armNames = ['think_base'], ...rest } = over;
  const rows = heldoutRows().slice(0, (over.dataset as { limit?: number } | undefined)?.limit ?? 4);
  return parseRunConfig({
    name: 'test',
    dataset: { rows, limit: rows.length },
    samplesPerPrefix: 2,
    arms: armNames.map((name) => ({ name, baseURL: url, model: name, maxConcurrency: 4 })),
    judge: { baseURL: url, model: 'qwen-judge', maxConcurrency: 4 },
    ...rest,
    output: rest.output ?? { dir: tempDir() },
    ...(over.dataset ? { dataset: { rows, ...over.dataset, limit: rows.length } } : {}),
  });
}

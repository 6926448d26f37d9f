import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import YAML from 'yaml';
import { ConfigError } from './errors';
import { parseJsonl } from './jsonl';
import { DatasetRowSchema, type DatasetRow, type RunConfig } from './schema';
import { parseRunConfig, selectRows } from './validate';

/** Reads a JSONL file of dataset rows; a bad line is a ConfigError naming its line. */
export function readDatasetFile(file: string, field = 'dataset.path'): DatasetRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`${field}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)}); fix the path (relative to the config file)`]);
  }
  const parsed = parseJsonl(text, file, DatasetRowSchema, 'row');
  const problems = parsed.problems.map((p) => `${field}: ${p}`);
  const rows = parsed.values;
  const seen = new Set<string>();
  for (const r of rows) {
    if (seen.has(r.id)) problems.push(`${field}: ${file}: duplicate id "${r.id}"; ids must be unique`);
    seen.add(r.id);
  }
  if (problems.length) throw new ConfigError(file, problems);
  if (rows.length === 0) throw new ConfigError(file, [`${field}: ${file} holds no rows`]);
  return rows;
}

/** Parses YAML or JSON text (JSON is YAML). */
export function parseConfigText(text: string, source: string): unknown {
  try {
    return YAML.parse(text);
  } catch (e) {
    throw new ConfigError(source, [`(file): not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`]);
  }
}

/**
 * Loads a config file and resolves it: defaults applied, the dataset read, shuffled and cut, rows inline.
 * The result is what `probeRun` takes, so a run started by `temporal workflow start` sees the same rows.
 */
export function resolveConfigFile(file: string): RunConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [`(file): cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`]);
  }
  const config = parseRunConfig(parseConfigText(text, file), file);
  return resolveDataset(config, dirname(resolve(file)));
}

/** Replaces a dataset path by its rows (shuffled and cut), so the config carries everything a run needs. */
export function resolveDataset(config: RunConfig, baseDir: string): RunConfig {
  const d = config.dataset;
  let rows = d.rows;
  let source = d.source;
  if (d.path !== undefined) {
    const file = resolve(baseDir, d.path);
    rows = readDatasetFile(file);
    source = d.path;
  }
  const selected = selectRows({ ...config, dataset: { ...d, rows } });
  const resolved = { ...config, dataset: { rows: selected, limit: selected.length, shuffle: false, avoidSameSource: d.avoidSameSource, ...(source ? { source } : {}) } };
  // Validate again: the row count may now rule out the swap.
  return parseRunConfig(resolved, 'resolved config');
}

/** The sha256 of a resolved config's canonical JSON (keys sorted), as summary.json and config.json carry it. */
export function configHash(config: RunConfig): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`;
}

/** JSON with object keys sorted, so equal configs hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

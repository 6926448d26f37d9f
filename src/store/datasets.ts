import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalJson } from '../config/load';
import type { DatasetRow, RunConfig } from '../config/schema';
import { MissingStoredInputError } from '../errors';
import { writeFileAtomic } from './file';
import { refOf, type StoreAddress } from './index';
import { storeRefOf } from './types';

/**
 * Datasets by reference: a run's rows are put once into the store, keyed by the hash of their content, and
 * workflows carry `{ ref, count }` instead of the rows. Shared by runs: the same rows are stored once.
 */
export interface DatasetStore {
  /** Stores rows (a no-op when they are there) and returns their reference. */
  put(rows: DatasetRow[]): Promise<string>;
  /** The rows of a reference, or undefined when this store does not hold them. */
  get(ref: string): Promise<DatasetRow[] | undefined>;
}

/** The reference of rows: `sha256:` and the hash of their canonical JSON, in order. */
export function datasetRef(rows: DatasetRow[]): string {
  return `sha256:${createHash('sha256').update(canonicalJson(rows)).digest('hex')}`;
}

/** The file backend: `<output.dir>/datasets/<hash>.jsonl`, written whole or not at all. */
export class FileDatasetStore implements DatasetStore {
  constructor(readonly dir: string) {}

  private file(ref: string): string {
    return join(this.dir, `${ref.replace(/^sha256:/, '')}.jsonl`);
  }

  async put(rows: DatasetRow[]): Promise<string> {
    const ref = datasetRef(rows);
    if ((await this.get(ref)) !== undefined) return ref;
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(this.file(ref), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    return ref;
  }

  async get(ref: string): Promise<DatasetRow[] | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(ref), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const rows = text.split('\n').filter((l) => l).map((l) => JSON.parse(l) as DatasetRow);
    // A file that does not hash to its name is not these rows (edited by hand, or torn): never use it.
    return datasetRef(rows) === ref ? rows : undefined;
  }
}

/** The dataset store beside a run's store: for the file store, `datasets/` next to the run directories. */
export function datasetStoreOf(address: StoreAddress, env: NodeJS.ProcessEnv = process.env): DatasetStore {
  const ref = refOf(address);
  if (ref.kind === 'file') return new FileDatasetStore(join(dirname(ref.dir), 'datasets'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { postgresDatasets } = require('./postgres') as { postgresDatasets: (urlEnv: string, env: NodeJS.ProcessEnv) => DatasetStore };
  return postgresDatasets(ref.urlEnv, env);
}

/** The rows of a reference from a run's dataset store; a clear error when they are not there. */
export async function loadRows(address: StoreAddress, ref: string, count: number): Promise<DatasetRow[]> {
  const rows = await datasetStoreOf(address).get(ref);
  if (!rows) throw new MissingStoredInputError(`dataset ${ref}`);
  if (rows.length !== count) throw new MissingStoredInputError(`dataset ${ref} with ${count} rows (it holds ${rows.length})`);
  return rows;
}

/** The dataset store a config's runs use: `datasets/` under output.dir, or the config's PostgreSQL store. */
export function datasetStoreForConfig(config: RunConfig, env: NodeJS.ProcessEnv = process.env): DatasetStore {
  const ref = storeRefOf(config, '');
  return ref ? datasetStoreOf(ref, env) : new FileDatasetStore(join(config.output.dir, 'datasets'));
}

/**
 * A resolved config (rows inline) with its rows put into the store and replaced by their reference, so the
 * workflow input stays small at any dataset size.
 */
export async function referenceDataset(config: RunConfig, env: NodeJS.ProcessEnv = process.env): Promise<RunConfig> {
  const rows = config.dataset.rows;
  if (!rows) return config;
  const ref = await datasetStoreForConfig(config, env).put(rows);
  const { rows: _rows, path: _path, ...dataset } = config.dataset;
  return { ...config, dataset: { ...dataset, ref, count: rows.length, limit: rows.length, shuffle: false } };
}

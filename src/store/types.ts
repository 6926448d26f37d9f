import type { DatasetRow, RunConfig } from '../config/schema';

/**
 * The kinds of entries a run's store keeps per arm. `failures` marks suffixes whose generation failed for that
 * sample only, so a judge batch waiting for them stops waiting.
 */
export type StoreKind = 'thoughts' | 'suffixes' | 'records' | 'failures' | 'judgments' | 'paraphrases';

/**
 * Every kind, in the order stores list them. `judgments` holds each judgment of a suffix when there are several
 * (`judge.repeats`, `judges`), so a retried judge batch redoes none that finished; `paraphrases` the rewritten
 * thoughts of `paraphrased_thought` conditions, stored and reused like thoughts.
 */
export const STORE_KINDS: readonly StoreKind[] = ['thoughts', 'suffixes', 'records', 'failures', 'judgments', 'paraphrases'];

/**
 * Where a run's store is, as workflows carry it: opaque to them, and never a secret. A file store is its run
 * directory (older runs carry that directory as a plain string); a PostgreSQL store names the environment variable
 * that holds its URL on each worker, never the URL.
 */
export type StoreRef = { kind: 'file'; dir: string } | { kind: 'postgres'; urlEnv: string; runId: string };

/**
 * The store reference of a run whose config names a store other than files (undefined for the file store, which
 * activity inputs name by its run directory, as they always have).
 */
export function storeRefOf(config: Pick<RunConfig, 'store'>, runId: string): (StoreRef & { kind: 'postgres' }) | undefined {
  return config.store?.kind === 'postgres' ? { kind: 'postgres', urlEnv: config.store.urlEnv, runId } : undefined;
}

/** What the run's config.json holds: the resolved config, its hash, and what a resume reused. */
export interface RunDocument {
  runId: string;
  configHash: string;
  resumedFrom: string[];
  reused: Record<string, { thoughts: number; suffixes: number; records: number }>;
  config: RunConfig;
}

/** Called for every entry stored, with its arm, kind and key. */
export type StoredListener = (arm: string, kind: StoreKind, key: string) => void;

/**
 * A run's store: keyed entries per arm and kind, where the first write of a key wins and later writes of the same
 * key return the stored entry; the run's document (config); and reuse of an earlier run's entries for `resume`.
 * Several processes on several hosts may write one store at once.
 */
export interface RunStore {
  /** Where this store is. */
  readonly ref: StoreRef;
  /** Reads what any writer stored for (arm, kind) since this process last looked, so `peek` sees it. */
  prime(arm: string, kind: StoreKind): Promise<void>;
  /**
   * Reads the entries under these keys, whoever stored them, and returns those found: what a batch needs, without
   * reading the rest of the run (a backend may read more, as the file store reads its whole file). The batch keeps
   * the map; `peek` may see them too, while the process's index holds them.
   */
  load<T>(arm: string, kind: StoreKind, keys: readonly string[]): Promise<Map<string, T>>;
  /**
   * Reads the entries under these keys and returns those found, without keeping them in this process's memory: for
   * passes over a whole run (artifacts, export, view), which ask for a run's entries a page at a time.
   */
  lookup<T>(arm: string, kind: StoreKind, keys: readonly string[]): Promise<Map<string, T>>;
  /** Keys of an arm's records whose thought or suffix, lowercased, holds every one of these lowercased terms. */
  searchRecords(arm: string, terms: readonly string[]): Promise<string[]>;
  /** Every entry of a kind for an arm, first write wins, in pages in the store's order, none kept in memory: one pass over it. */
  scan<T>(arm: string, kind: StoreKind, pageSize?: number): AsyncGenerator<T[]>;
  /** How many entries of a kind an arm has (whoever stored them). */
  count(arm: string, kind: StoreKind): Promise<number>;
  /** The entry under a key as far as this process has read (no I/O). */
  peek<T>(arm: string, kind: StoreKind, key: string): T | undefined;
  /** The entry under a key, reading the store when this process has not seen it yet. */
  get<T>(arm: string, kind: StoreKind, key: string): Promise<T | undefined>;
  /** Stores an entry under its key unless one is there already; returns the entry that is stored (the first). */
  put<T extends { key: string }>(arm: string, kind: StoreKind, entry: T): Promise<T>;
  /** Every entry of a kind for an arm, first write wins. */
  all<T>(arm: string, kind: StoreKind): Promise<T[]>;
  /**
   * Calls `fn` for every entry stored, until the returned function is called: entries this process stores at
   * once, and (where the backend can tell) entries other processes store. A batch waiting for its inputs also
   * primes now and then, so a backend that cannot tell is still correct, only slower.
   */
  onStored(fn: StoredListener): () => void;
  /** The run's document, or undefined before prepareRun wrote it. */
  readDocument(): Promise<RunDocument | undefined>;
  /** Writes the run's document, whole or not at all (prepareRun writes it last). */
  writeDocument(doc: RunDocument): Promise<void>;
  /** The run's resolved config (from its document). */
  runConfig(): Promise<RunConfig>;
  /** A dataset row of the run by prefix id. */
  row(prefixId: string): Promise<DatasetRow>;
  /** Copies an earlier run's entries of one arm and kind into this store (whole entries only); returns how many. */
  reuse(from: RunStore, arm: string, kind: StoreKind): Promise<number>;
  /** Frees what this process holds for the store (its contents stay). */
  close(): void;
}

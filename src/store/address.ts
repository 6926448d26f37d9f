// Where a run's store is, worked out from its config in one place: replayed by workflows (pure, no I/O) and used by
// the CLI and the activities.
import type { RunConfig } from '../config/schema';
import { storeRefOf, type StoreRef } from './types';

/**
 * A run's store as activity inputs carry it: the run directory, and the store reference when the store is not the
 * file store in that directory. This pair is the wire format recorded in every history and read by workers of other
 * builds, so it stays as it is; `storeAddressOf` turns it into the one address that opens the store.
 */
export interface RunStoreAddress {
  storeDir: string;
  store?: StoreRef;
}

/** `<output.dir>/<runId>`: the run's directory (its file store, and where artifacts go). */
export function runDirectory(config: Pick<RunConfig, 'output'>, runId: string): string {
  return `${config.output.dir.replace(/\/+$/, '')}/${runId}`;
}

/** The store of run `runId` under `config`: its directory, and the PostgreSQL reference when the config names one. */
export function runStoreAddress(config: Pick<RunConfig, 'output' | 'store'>, runId: string): RunStoreAddress {
  const store = storeRefOf(config, runId);
  return { storeDir: runDirectory(config, runId), ...(store ? { store } : {}) };
}

/** What opens the store an activity input names: its reference, or else its run directory. */
export function storeAddressOf(input: RunStoreAddress): StoreRef | string {
  return input.store ?? input.storeDir;
}

/** The store, as an error message names it: its directory, or the PostgreSQL store with its URL's variable. */
export function describeStore(input: RunStoreAddress): string {
  const ref = input.store;
  if (!ref || ref.kind === 'file') return ref?.dir ?? input.storeDir;
  return `the PostgreSQL store (${ref.urlEnv}) of run ${ref.runId}`;
}

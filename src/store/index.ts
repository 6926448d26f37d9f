// The run store behind one interface, chosen per run by its reference (see README.md here).
import { FileRunStore } from './file';
import type { RunStore, StoreRef } from './types';

export { FileRunStore, StagedFiles, writeFileAtomic, writeJsonLinesAtomic } from './file';
export { STORE_KINDS, type RunDocument, type RunStore, type StoreKind, type StoreRef, type StoredListener } from './types';

/** What an activity input names its store by: a reference, or (older runs) the file store's run directory. */
export type StoreAddress = StoreRef | string;

/** The reference of an address. */
export function refOf(address: StoreAddress): StoreRef {
  return typeof address === 'string' ? { kind: 'file', dir: address } : address;
}

/** A stable name of a reference, for caches (never holds a secret). */
export function refKey(ref: StoreRef): string {
  return ref.kind === 'file' ? `file:${ref.dir}` : `postgres:${ref.urlEnv}:${ref.runId}`;
}

/** Makes the store of a reference (a backend per kind). */
export type StoreFactory = (ref: StoreRef) => RunStore;

// A long-lived worker serves run after run: it keeps the stores of the most recently used runs only, so their
// indexes do not pile up. An activity still holding an evicted store keeps working.
const MAX_STORES = 8;

/** The stores of one worker process, by reference, most recently used kept. */
export class StoreRegistry {
  private readonly stores = new Map<string, RunStore>();

  constructor(private readonly make: StoreFactory) {}

  /** The store of a run, opened once and shared within this process. */
  open(address: StoreAddress): RunStore {
    const ref = refOf(address);
    const id = refKey(ref);
    let s = this.stores.get(id);
    if (s) {
      this.stores.delete(id);
      this.stores.set(id, s);
      return s;
    }
    s = this.make(ref);
    this.stores.set(id, s);
    for (const [old, store] of this.stores) {
      if (this.stores.size <= MAX_STORES) break;
      this.stores.delete(old);
      store.close();
    }
    return s;
  }

  /** Forgets a finished run's store in this process (its contents stay); the next open makes it afresh. */
  release(address: StoreAddress): void {
    const id = refKey(refOf(address));
    this.stores.get(id)?.close();
    this.stores.delete(id);
  }
}

/** The backends: the file store here; a PostgreSQL store from the variable its reference names. */
export function defaultFactory(env: NodeJS.ProcessEnv = process.env): StoreFactory {
  return (ref) => {
    if (ref.kind === 'file') return new FileRunStore(ref.dir);
    // Loaded only by workers whose runs use it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openPostgresStore } = require('./postgres') as { openPostgresStore: (ref: StoreRef & { kind: 'postgres' }, env: NodeJS.ProcessEnv) => RunStore };
    return openPostgresStore(ref, env);
  };
}

/** The stores of this process shared by everything in it (workers and the CLI) unless given their own. */
export const processStores = new StoreRegistry(defaultFactory());

/** The file store of a run directory, shared within this process. */
export function storeFor(dir: string): RunStore {
  return processStores.open(dir);
}

/** Forgets a run directory's store in this process. */
export function releaseStore(dir: string): void {
  processStores.release(dir);
}

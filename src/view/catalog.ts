import type { RunStore } from '../store';

/** A run as the run list shows it (from Temporal's visibility in the CLI). */
export interface RunListing {
  runId: string;
  /** The workflow's status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  status: string;
  startedAt: string | null;
  closedAt: string | null;
}

/** Where `view` finds runs: their list and status, and the store that holds each run's texts. */
export interface RunCatalog {
  /** The runs to list, newest first. */
  list(): Promise<RunListing[]>;
  /** A run's listing and store, or undefined when there is no such run. */
  open(runId: string): Promise<{ listing: RunListing; store: RunStore } | undefined>;
}

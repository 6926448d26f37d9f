import type { RunStore } from '../store';

/** A run as the run list shows it (from Temporal's visibility in the CLI). */
export interface RunListing {
  runId: string;
  /** The workflow's status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  status: string;
  startedAt: string | null;
  closedAt: string | null;
}

/** A sample that failed before it was judged, as a finished arm reports it (the run has no record for it). */
export interface FailedSample {
  arm: string;
  prefixIndex: number;
  sample: number;
  condition: string;
  error: string;
}

/** What `view` reads of one run. */
export interface OpenedRun {
  listing: RunListing;
  store: RunStore;
  /**
   * For a completed run: the samples its arms report as failed. With it, `view` shows every planned sample, as
   * samples.jsonl holds them (a failed one with its error); without it, only the samples stored.
   */
  failed?: () => Promise<FailedSample[]>;
}

/** Where `view` finds runs: their list and status, and the store that holds each run's texts. */
export interface RunCatalog {
  /** The runs to list, newest first. */
  list(): Promise<RunListing[]>;
  /** A run's listing and store, or undefined when there is no such run. */
  open(runId: string): Promise<OpenedRun | undefined>;
}

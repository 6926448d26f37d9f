// What the activities report about their work, as a small interface (the Prometheus one is ./prometheus), so tests
// and processes without metrics pass the no-op.

/** An endpoint as the metrics label it: its role (`judge`, `arm think_base`), model and base URL. */
export interface MeteredEndpoint {
  role: string;
  model: string;
  baseURL: string;
}

/**
 * How one model request ended: `ok`; `retryable` (connection, timeout, 5xx, stall: Temporal retries); `rate_limited`
 * (429); `fatal` (400, 401, 403, 404: not retried); `invalid_judgment` (the judge answered without a score).
 */
export type RequestOutcome = 'ok' | 'retryable' | 'rate_limited' | 'fatal' | 'invalid_judgment';

/** A kind of result the activities store: thoughts, suffixes, judged records, and failures of a sample. */
export type StoredKind = 'thoughts' | 'suffixes' | 'records' | 'failures' | 'judgments' | 'paraphrases';

/** The activities' side of the metrics. */
export interface RequestMetrics {
  /** The endpoint's request cap (`maxConcurrency`), which in-flight requests are measured against. */
  cap(ep: MeteredEndpoint, maxConcurrency: number): void;
  /** A request starts; the returned function ends it with its outcome. */
  start(ep: MeteredEndpoint): (outcome: RequestOutcome) => void;
  /** A result was stored. */
  stored(arm: string, kind: StoredKind): void;
}

/** Metrics that go nowhere: the default of activities built without them. */
export const noMetrics: RequestMetrics = {
  cap() {},
  start: () => () => {},
  stored() {},
};

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MeteredEndpoint, RequestMetrics, RequestOutcome, StoredKind } from './requests';

const labels = (ep: MeteredEndpoint) => ({ role: ep.role, model: ep.model, endpoint: ep.baseURL });

/** The activities' metrics as Prometheus series in their own registry (see the README's "Metrics" table). */
export class PrometheusRequestMetrics implements RequestMetrics {
  /** The registry the metrics server exposes. */
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'thought_probe_requests_total',
    help: 'Model requests by endpoint and outcome (ok, retryable, rate_limited, fatal, invalid_judgment)',
    labelNames: ['role', 'model', 'endpoint', 'outcome'],
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'thought_probe_request_duration_seconds',
    help: 'Duration of model requests by endpoint, whatever their outcome',
    labelNames: ['role', 'model', 'endpoint'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly inFlight = new Gauge({
    name: 'thought_probe_requests_in_flight',
    help: "Model requests this worker has in flight per endpoint (compare with thought_probe_request_cap, the run's cap over all workers)",
    labelNames: ['role', 'model', 'endpoint'],
    registers: [this.registry],
  });
  private readonly caps = new Gauge({
    name: 'thought_probe_request_cap',
    help: "The endpoint's maxConcurrency in the run's config",
    labelNames: ['role', 'model', 'endpoint'],
    registers: [this.registry],
  });
  private readonly storedResults = new Counter({
    name: 'thought_probe_stored_results_total',
    help: 'Results this worker stored, by arm and kind (thoughts, suffixes, records, failures)',
    labelNames: ['arm', 'kind'],
    registers: [this.registry],
  });

  /** Sets the endpoint's cap. */
  cap(ep: MeteredEndpoint, maxConcurrency: number): void {
    this.caps.set(labels(ep), maxConcurrency);
  }

  /** Counts a request in flight until it ends, then by outcome with its duration. */
  start(ep: MeteredEndpoint): (outcome: RequestOutcome) => void {
    const l = labels(ep);
    this.inFlight.inc(l);
    const stop = this.latency.startTimer(l);
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      stop();
      this.inFlight.dec(l);
      this.requests.inc({ ...l, outcome });
    };
  }

  /** Counts a stored result. */
  stored(arm: string, kind: StoredKind): void {
    this.storedResults.inc({ arm, kind });
  }
}

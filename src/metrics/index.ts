// Worker metrics: what the activities count (requests by outcome, latency, in flight against the cap, stored
// results) and the Prometheus endpoint that serves them with the Temporal SDK runtime's own.
export { noMetrics, type MeteredEndpoint, type RequestMetrics, type RequestOutcome, type StoredKind } from './requests';
export { PrometheusRequestMetrics } from './prometheus';
export { freeLoopbackPort, startMetricsServer, type MetricsServer } from './server';

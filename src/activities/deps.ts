import { hostname } from 'node:os';
import { ModelClients } from './clients';
import { EndpointLimits } from './limits';
import { noMetrics, type RequestMetrics } from '../metrics/requests';
import { processStores, type RunStore, type StoreAddress } from '../store';

/** Where activities find a run's store. */
export interface StoreRegistry {
  /** The store of a run, opened once per worker and kept while the run is busy. */
  open(address: StoreAddress): RunStore;
  /** Forgets a finished run's store on this worker (its contents stay). */
  release(address: StoreAddress): void;
}

/** What the activities need from the world: the worker's identity, model clients, and the run stores. */
export interface ActivityDeps {
  /** The worker's identity, as Temporal shows it (named in errors a worker's setup causes). */
  identity: string;
  clients: ModelClients;
  stores: StoreRegistry;
  /** Per-process caps for endpoints called inside another endpoint's activities (extra judges). */
  limits: EndpointLimits;
  /** Where requests and stored results are counted (a worker's `--metrics-port`; none by default). */
  metrics: RequestMetrics;
}

/** The identity Temporal gives a worker by default: `<pid>@<host>`. */
export function defaultIdentity(): string {
  return `${process.pid}@${hostname()}`;
}

/** Fills in the real dependencies for whatever a caller (a worker, a test) does not give. */
export function resolveDeps(deps: Partial<ActivityDeps> = {}): ActivityDeps {
  const identity = deps.identity ?? defaultIdentity();
  return {
    identity,
    clients: deps.clients ?? new ModelClients(identity),
    stores: deps.stores ?? processStores,
    limits: deps.limits ?? new EndpointLimits(),
    metrics: deps.metrics ?? noMetrics,
  };
}

import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { defaultIdentity } from '../activities/deps';
import { DEFAULT_TASK_QUEUE } from '../config/schema';
import { codecFromEnv, missingKeyInterceptor, NoKeysCodec } from '../codec';
import { preloadCharts } from '../report/vega';
import { temporalSettings } from './connection';
import { workflowCode } from './bundle';

/** Options of a worker process: the queues it polls and, for tests, an existing connection. */
export interface ProbeWorkerOptions {
  taskQueues?: string[];
  connection?: NativeConnection;
  namespace?: string;
  /** A bundle made once and shared by several workers (tests). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Whether to poll the run queue (workflows, prepare, summary, artifacts) besides `taskQueues` (default true). */
  runQueue?: boolean;
  /** The identity Temporal shows for these workers (default `<pid>@<host>`). */
  identity?: string;
  /** Dependencies of the activities other than the real ones (tests). */
  deps?: Partial<Omit<ActivityDeps, 'identity'>>;
  /** Most activities at once; each carries several requests in lanes. */
  maxConcurrentActivityTaskExecutions?: number;
}

/** The path workers load workflows from. */
export const workflowsPath = require.resolve('../workflows');

let runtimeReady = false;

/**
 * Installs the SDK runtime once per process, logging warnings and errors only (THOUGHT_PROBE_LOG_LEVEL overrides),
 * with its Prometheus exporter on `metricsBindAddress` when given.
 */
export function installRuntime(opts: { metricsBindAddress?: string } = {}): void {
  if (runtimeReady) return;
  runtimeReady = true;
  try {
    Runtime.install({
      logger: new DefaultLogger((process.env.THOUGHT_PROBE_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN'),
      ...(opts.metricsBindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.metricsBindAddress } } } } : {}),
    });
  } catch {
    // Already installed by the embedding process (tests): keep theirs.
  }
}

/**
 * Creates the workers of one process: one per task queue running its workflows and activities (with the payload codec
 * on, two per queue: one for workflows, one for activities).
 */
export async function createWorkers(opts: ProbeWorkerOptions = {}): Promise<Worker[]> {
  // Parsed first: a bad key list stops the worker before it connects (the CLI exits 2).
  const codec = codecFromEnv();
  const dataConverter = { payloadCodecs: [codec ?? new NoKeysCodec()] };
  installRuntime();
  const settings = opts.connection ? undefined : temporalSettings();
  const connection = opts.connection ?? (await NativeConnection.connect(settings!.connectionOptions));
  const namespace = opts.namespace ?? settings?.namespace ?? 'default';
  const queues = [...new Set([...(opts.runQueue === false ? [] : [DEFAULT_TASK_QUEUE]), ...(opts.taskQueues ?? [])])];
  // One identity for the workers and their activities, so an error a worker's setup causes names that worker.
  const identity = opts.identity ?? defaultIdentity();
  const activities = createActivities({ ...opts.deps, identity });
  preloadCharts();
  // The bundle `npm run build` made, else one bundled here once for every worker of the process.
  const workflows = { workflowBundle: opts.workflowBundle ?? (await workflowCode(workflowsPath)) };
  const common = { connection, namespace, identity };
  const activityOptions = { activities, maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? 200 };
  if (!codec) {
    return Promise.all(queues.map((taskQueue) => Worker.create({ ...common, taskQueue, ...workflows, ...activityOptions, dataConverter })));
  }
  // With the codec, each queue gets a workflow worker and an activity worker: a payload under a key this process lacks
  // fails a workflow task (retried until a worker with the key takes it: the run waits), but fails an activity for
  // good (the marking codec and missingKeyInterceptor), since the SDK would retry an activity's decoding error forever.
  const marking = { payloadCodecs: [codec.marking()] };
  return (
    await Promise.all(
      queues.map((taskQueue) =>
        Promise.all([
          Worker.create({ ...common, taskQueue, ...workflows, dataConverter }),
          Worker.create({ ...common, taskQueue, ...activityOptions, dataConverter: marking, interceptors: { activity: [missingKeyInterceptor] } }),
        ]),
      ),
    )
  ).flat();
}

/** Runs workers until they are shut down (SIGINT/SIGTERM are handled by the SDK). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}

import { codecFromEnv } from '../codec';
import { freeLoopbackPort, PrometheusRequestMetrics, startMetricsServer, type MetricsServer } from '../metrics';
import { createWorkers, installRuntime, runWorkers } from '../workers/worker';
import { InputError } from './errors';

/** `thought-probe worker` (its arguments and options are in ./commands, which loads this module to run it). */
export async function workerCommand(opts: { taskQueue?: string[]; maxActivities?: number; runQueue?: boolean; storeUrlEnv?: string; identity?: string; metricsPort?: string; metricsHost?: string }): Promise<void> {
  if (opts.runQueue === false && !opts.taskQueue?.length) throw new InputError('--no-run-queue needs at least one --task-queue to poll');
  // Bad codec keys are bad input: said before the store is migrated or anything connects.
  codecFromEnv();
  const metricsPort = opts.metricsPort === undefined ? undefined : Number(opts.metricsPort);
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65535)) {
    throw new InputError(`--metrics-port: "${opts.metricsPort}" is not a port number (0-65535)`);
  }
  const urlEnv = opts.storeUrlEnv ?? 'THOUGHT_PROBE_DATABASE_URL';
  if (process.env[urlEnv]) {
    // Several workers may start at once: migrations take an advisory lock, and one already applied is skipped.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const store = require('./store') as typeof import('./store');
    await store.migrateFromEnv(urlEnv);
  }
  if (opts.identity !== undefined && !opts.identity.trim()) throw new InputError('--identity: must not be empty');
  let metrics: PrometheusRequestMetrics | undefined;
  let runtimeMetricsUrl: string | undefined;
  if (metricsPort !== undefined) {
    // The SDK runtime exports its own metrics on a private loopback port; ours serves them together with the probe's.
    const runtimePort = await freeLoopbackPort();
    installRuntime({ metricsBindAddress: `127.0.0.1:${runtimePort}` });
    runtimeMetricsUrl = `http://127.0.0.1:${runtimePort}/metrics`;
    metrics = new PrometheusRequestMetrics();
  }
  const workers = await createWorkers({
    ...(metrics ? { deps: { metrics } } : {}),
    taskQueues: opts.taskQueue,
    runQueue: opts.runQueue !== false,
    maxConcurrentActivityTaskExecutions: opts.maxActivities,
    ...(opts.identity ? { identity: opts.identity } : {}),
  });
  let server: MetricsServer | undefined;
  if (metrics) {
    server = await startMetricsServer({ port: metricsPort!, host: opts.metricsHost, registry: metrics.registry, runtimeMetricsUrl });
    process.stdout.write(`metrics on http://${opts.metricsHost ?? '0.0.0.0'}:${server.port}/metrics\n`);
  }
  process.stdout.write(`worker polling ${[...new Set(workers.map((w) => w.options.taskQueue))].join(', ')}\n`);
  try {
    await runWorkers(workers);
  } finally {
    // An open metrics port would keep the process alive after the workers shut down (SIGTERM).
    await server?.close();
  }
}

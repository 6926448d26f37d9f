import { createWorkers, runWorkers } from '../workers/worker';
import { InputError } from './errors';

/** `thought-probe worker` (its arguments and options are in ./commands, which loads this module to run it). */
export async function workerCommand(opts: { taskQueue?: string[]; maxActivities?: number; runQueue?: boolean; storeUrlEnv?: string; identity?: string }): Promise<void> {
  if (opts.runQueue === false && !opts.taskQueue?.length) throw new InputError('--no-run-queue needs at least one --task-queue to poll');
  const urlEnv = opts.storeUrlEnv ?? 'THOUGHT_PROBE_DATABASE_URL';
  if (process.env[urlEnv]) {
    // Several workers may start at once: migrations take an advisory lock, and one already applied is skipped.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const store = require('./store') as typeof import('./store');
    await store.migrateFromEnv(urlEnv);
  }
  if (opts.identity !== undefined && !opts.identity.trim()) throw new InputError('--identity: must not be empty');
  const workers = await createWorkers({
    taskQueues: opts.taskQueue,
    runQueue: opts.runQueue !== false,
    maxConcurrentActivityTaskExecutions: opts.maxActivities,
    ...(opts.identity ? { identity: opts.identity } : {}),
  });
  process.stdout.write(`worker polling ${workers.map((w) => w.options.taskQueue).join(', ')}\n`);
  await runWorkers(workers);
}

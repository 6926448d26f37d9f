import { createWorkers, runWorkers } from '../workers/worker';
import { InputError } from './errors';

/** `thought-probe worker` (its arguments and options are in ./commands, which loads this module to run it). */
export async function workerCommand(opts: { taskQueue?: string[]; maxActivities?: number; runQueue?: boolean; storeUrlEnv?: string }): Promise<void> {
  if (opts.runQueue === false && !opts.taskQueue?.length) throw new InputError('--no-run-queue needs at least one --task-queue to poll');
  const urlEnv = opts.storeUrlEnv ?? 'THOUGHT_PROBE_DATABASE_URL';
  if (process.env[urlEnv]) {
    // Several workers may start at once: migrations take an advisory lock, and one already applied is skipped.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const store = require('./store') as typeof import('./store');
    await store.migrateFromEnv(urlEnv);
  }
  const workers = await createWorkers({ taskQueues: opts.taskQueue, runQueue: opts.runQueue !== false, maxConcurrentActivityTaskExecutions: opts.maxActivities });
  process.stdout.write(`worker polling ${workers.map((w) => w.options.taskQueue).join(', ')}\n`);
  await runWorkers(workers);
}

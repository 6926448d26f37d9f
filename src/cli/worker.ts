import { createWorkers, runWorkers } from '../workers/worker';

/** `thought-probe worker` (its arguments and options are in ./commands, which loads this module to run it). */
export async function workerCommand(opts: { taskQueue?: string[]; maxActivities?: number }): Promise<void> {
  const workers = await createWorkers({ taskQueues: opts.taskQueue, maxConcurrentActivityTaskExecutions: opts.maxActivities });
  process.stdout.write(`worker polling ${workers.map((w) => w.options.taskQueue).join(', ')}\n`);
  await runWorkers(workers);
}

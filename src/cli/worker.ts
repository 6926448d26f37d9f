import type { Command } from 'commander';
import { createWorkers, runWorkers } from '../workers/worker';

/** Registers `thought-probe worker`. */
export function register(program: Command): void {
  program
    .command('worker')
    .description('poll the thought-probe task queue (and any --task-queue) and run workflows and activities')
    .option('--task-queue <queue...>', 'extra task queues, for arms routed to this worker')
    .option('--max-activities <n>', 'most activities at once (each carries several requests)', (v) => Number(v))
    .action(async (opts: { taskQueue?: string[]; maxActivities?: number }) => {
      const workers = await createWorkers({ taskQueues: opts.taskQueue, maxConcurrentActivityTaskExecutions: opts.maxActivities });
      process.stdout.write(`worker polling ${workers.map((w) => w.options.taskQueue).join(', ')}\n`);
      await runWorkers(workers);
    });
}

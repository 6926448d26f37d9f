import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { RunConfig } from '../config/schema';
import { processStores, type RunStore } from '../store';
import { runStoreAddress, storeAddressOf } from '../store/address';
import { armWorkflowId, type ProbeArmResult } from '../workflows/api';
import { startViewServer, type FailedSample, type RunCatalog, type RunListing } from '../view';
import { InputError } from './errors';
import { runInput } from './resume';
import { connectClient } from './temporal';

/** How many runs the list shows when no run ids are given (newest first). */
const LIST_LIMIT = 100;

function listingOf(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'status' | 'startTime' | 'closeTime'>): RunListing {
  return { runId: info.workflowId, status: info.status.name, startedAt: info.startTime?.toISOString() ?? null, closedAt: info.closeTime?.toISOString() ?? null };
}

/**
 * Runs as Temporal knows them: the list from its visibility (probeRun workflows, or the ids given), each run's
 * store from the config in its history (`<output.dir>/<run id>` for the file store, as `export` finds it), and a
 * completed run's failed samples from its arms' results (as `export` does).
 */
export function temporalCatalog(client: Client, only: string[] = []): RunCatalog {
  const configs = new Map<string, Promise<RunConfig>>();
  const failures = new Map<string, Promise<FailedSample[]>>();
  // A completed run's failed samples are in its arms' results, which never change: read once.
  const failedOf = (runId: string, config: RunConfig) => () => {
    let f = failures.get(runId);
    if (!f) {
      f = Promise.all(
        config.arms.map(async (a) => {
          const child = client.workflow.getHandle(armWorkflowId(runId, a.name));
          const status = await child.describe().then((x) => x.status.name, () => 'NOT_STARTED');
          return status === 'COMPLETED' ? ((await child.result()) as ProbeArmResult).errors : [];
        }),
      ).then((xs) => xs.flat());
      failures.set(runId, f);
      f.catch(() => failures.delete(runId));
    }
    return f;
  };
  return {
    async list() {
      if (only.length) return (await Promise.all(only.map(async (id) => (await this.open(id))?.listing))).filter((x): x is RunListing => x !== undefined);
      const out: RunListing[] = [];
      for await (const info of client.workflow.list({ query: "WorkflowType = 'probeRun'" })) {
        out.push(listingOf(info));
        if (out.length >= LIST_LIMIT) break;
      }
      return out;
    },
    async open(runId) {
      if (only.length && !only.includes(runId)) return undefined;
      const d = await client.workflow.getHandle(runId).describe().catch((e: Error) => {
        if (e?.name === 'WorkflowNotFoundError') return undefined;
        throw e;
      });
      if (!d || d.type !== 'probeRun') return undefined;
      let config = configs.get(runId);
      if (!config) {
        config = runInput(client, runId).then((x) => x.config);
        configs.set(runId, config);
        config.catch(() => configs.delete(runId));
      }
      const c = await config;
      const store: RunStore = processStores.open(storeAddressOf(runStoreAddress(c, runId)));
      return { listing: listingOf(d), store, failed: failedOf(runId, c) };
    },
  };
}

/** `thought-probe view [RUN_ID...]` (its arguments and options are in ./commands, which loads this module to run it). */
export async function viewCommand(runIds: string[], opts: { port: number; host: string }): Promise<void> {
  const client = await connectClient();
  const catalog = temporalCatalog(client, runIds);
  for (const id of runIds) {
    if (!(await catalog.open(id))) throw new InputError(`run ${id} not found (no probeRun workflow with that id); check the id with \`temporal workflow list\`, or leave it out to list every run`);
  }
  const server = await startViewServer({ catalog, host: opts.host, port: opts.port });
  process.stdout.write(`thought-probe view (read-only) at ${server.url}/\n`);
  for (const id of runIds) process.stdout.write(`  ${server.url}/runs/${encodeURIComponent(id)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await client.connection.close();
}

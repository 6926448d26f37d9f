import { readFileSync } from 'node:fs';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { resolveConfigFile } from '../config/load';
import { referenceDataset } from '../store/datasets';
import { DEFAULT_TASK_QUEUE, type RunConfig } from '../config/schema';
import { renderReport } from '../experiment/report';
import type { ProbeRunOptions, ProbeRunResult } from '../workflows/api';
import { InputError } from './errors';
import { follow } from './follow';
import { connectClient, uiLink } from './temporal';

/** Picks the run id: the run name, or the name with the first free `-N` when an earlier run holds it; refuses a running duplicate. */
export async function chooseRunId(client: Client, name: string): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const id = n === 1 ? name : `${name}-${n}`;
    try {
      const d = await client.workflow.getHandle(id).describe();
      if (d.status.name === 'RUNNING') {
        throw new InputError(`run ${id} is already running; follow it with \`thought-probe status ${id}\` or change name in the config`);
      }
    } catch (e) {
      if (e instanceof InputError) throw e;
      if ((e as Error).name === 'WorkflowNotFoundError') return id;
      throw e;
    }
  }
  throw new InputError(`name: too many runs named ${name}; choose another name`);
}

/** Starts a probeRun for a resolved config and returns its handle. */
export async function startRun(client: Client, config: RunConfig, runId: string, options?: ProbeRunOptions) {
  try {
    return await client.workflow.start('probeRun', {
      args: options ? [config, options] : [config],
      taskQueue: DEFAULT_TASK_QUEUE,
      workflowId: runId,
      memo: { name: config.name },
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) throw new InputError(`run ${runId} is already running`);
    throw e;
  }
}

/** Prints the end of a run: its tables and where its artifacts are. */
export function printResult(result: ProbeRunResult): void {
  const s = result.summary;
  process.stdout.write(`\n${readReport(result) ?? renderReport(s)}\n`);
  const a = result.artifacts;
  // Every artifact the run wrote, from the result itself, so a new one is listed without a change here.
  const files = Object.entries(a).filter(([name]) => name !== 'dir').map(([, path]) => path);
  process.stdout.write(`artifacts in ${a.dir}:\n  ${files.join('\n  ')}\n`);
}

function readReport(result: ProbeRunResult): string | undefined {
  try {
    return readFileSync(result.artifacts.report, 'utf8');
  } catch {
    return undefined;
  }
}

/** `thought-probe run CONFIG` (its arguments and options are in ./commands, which loads this module to run it). */
export async function runCommand(file: string, opts: { detach?: boolean; id?: string }): Promise<void> {
  // The rows go into the run's store; the workflow input carries their reference.
  const config = await referenceDataset(resolveConfigFile(file));
  const client = await connectClient();
  const runId = opts.id ?? (await chooseRunId(client, config.name));
  const handle = await startRun(client, config, runId);
  process.stdout.write(`started run ${runId}\n  ${uiLink(client.options.namespace, runId)}\n`);
  if (opts.detach) return;
  printResult(await follow(handle));
}

import { defaultPayloadConverter } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { plainPayload } from '../codec';
import { resolveConfigFile } from '../config/load';
import { referenceDataset } from '../store/datasets';
import type { RunConfig } from '../config/schema';
import { resumeSignal, type ProbeRunOptions } from '../workflows/api';
import { InputError, runNotFound } from './errors';
import { follow } from './follow';
import { chooseRunId, printResult, startRun } from './run';
import { connectClient, uiLink } from './temporal';

/** The config and options a run was started with, read from its history. */
export async function runInput(client: Client, runId: string): Promise<{ config: RunConfig; options: ProbeRunOptions }> {
  const history = await client.workflow.getHandle(runId).fetchHistory();
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  if (payloads.length === 0) throw new Error(`run ${runId} has no input in its history`);
  // Read from the raw history: decrypted here when the codec is on (a missing key is CodecKeyMissingError).
  const config = defaultPayloadConverter.fromPayload(plainPayload(payloads[0]!)) as RunConfig;
  const options = payloads[1] ? (defaultPayloadConverter.fromPayload(plainPayload(payloads[1])) as ProbeRunOptions) : {};
  return { config, options };
}

/** `thought-probe resume RUN_ID` (its arguments and options are in ./commands, which loads this module to run it). */
export async function resumeCommand(runId: string, opts: { config?: string; detach?: boolean }): Promise<void> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(runId);
  const d = await handle.describe().catch(runNotFound(runId));
  if (d.status.name === 'RUNNING') {
    await handle.signal(resumeSignal);
    process.stdout.write(`sent resume to run ${runId}; follow it with \`thought-probe status ${runId}\`\n`);
    return;
  }
  if (d.status.name === 'COMPLETED') throw new InputError(`run ${runId} completed; there is nothing to resume (see \`thought-probe result ${runId}\`)`);
  const previous = await runInput(client, runId);
  const config = opts.config ? await referenceDataset(resolveConfigFile(opts.config)) : previous.config;
  const resumeFrom = [...(previous.options.resumeFrom ?? []), runId];
  const newId = await chooseRunId(client, runId);
  const next = await startRun(client, config, newId, { resumeFrom });
  process.stdout.write(`run ${runId} was ${d.status.name}; started ${newId}, reusing the stored work of ${resumeFrom.join(', ')}\n  ${uiLink(client.options.namespace, newId)}\n`);
  if (opts.detach) return;
  printResult(await follow(next));
}

import { diagnoseRun, renderDiagnosis } from '../diagnose';
import { runNotFound } from './errors';
import { connectClient, uiLink } from './temporal';

/** `thought-probe debug RUN_ID` (its arguments and options are in ./commands, which loads this module to run it). */
export async function debugCommand(runId: string, opts: { json?: boolean }): Promise<void> {
  const client = await connectClient();
  const d = await diagnoseRun(client, runId).catch(runNotFound(runId));
  if (opts.json) process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
  else process.stdout.write(`${renderDiagnosis(d)}\n  ${uiLink(client.options.namespace, runId)}\n`);
}

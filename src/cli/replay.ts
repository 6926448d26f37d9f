import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readHistoryFile, type NamedHistory } from '../replay/files';
import { fetchRunHistories, renderReplayOutcome, replayHistories } from '../replay/replay';
import { probeDataConverter } from '../codec';
import { workflowsPath } from '../workers/worker';
import { InputError, runNotFound } from './errors';
import { connectClient } from './temporal';

/** Keeps the replay worker's own log lines (it logs every nondeterminism it meets) out of the report. */
function quietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Already installed in this process: keep it.
  }
}

/** `thought-probe replay` (its arguments and options are in ./commands, which loads this module to run it). */
export async function replayCommand(files: string[], opts: { run?: string }): Promise<void> {
  if (!files.length && !opts.run) throw new InputError('give history files or --run RUN_ID');
  const dataConverter = probeDataConverter();
  const items: NamedHistory[] = [];
  for (const f of files) {
    try {
      items.push(...readHistoryFile(f));
    } catch (e) {
      throw new InputError((e as Error).message);
    }
  }
  if (opts.run) {
    const client = await connectClient();
    items.push(
      ...(await fetchRunHistories(client, opts.run, true).catch(runNotFound(opts.run))),
    );
  }
  quietRuntime();
  const outcomes = await replayHistories(items, { workflowsPath }, dataConverter);
  for (const o of outcomes) process.stdout.write(`${renderReplayOutcome(o)}\n`);
  const failed = outcomes.filter((o) => !o.ok).length;
  if (failed) {
    process.stderr.write(`${failed} of ${outcomes.length} histories do not replay with the current workflow code\n`);
    process.exitCode = 1;
  }
}

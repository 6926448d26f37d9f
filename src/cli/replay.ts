import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readHistoryFile, type NamedHistory } from '../replay/files';
import { fetchRunHistories, renderReplayOutcome, replayHistories } from '../replay/replay';
import { CODEC_KEYS_ENV, keyIdOf, probeDataConverter, processCodec } from '../codec';
import { CodecKeyMissingError } from '../errors';
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

/** Throws CodecKeyMissingError (exit 2) when a history holds a payload encrypted with a key id this process lacks. */
function requireKeysFor(items: NamedHistory[]): void {
  const held = new Set(processCodec()?.keyIds ?? []);
  for (const item of items) {
    for (const e of item.history.events ?? []) {
      for (const p of payloadsOfEvent(e)) {
        const id = keyIdOf(p as never);
        if (id !== undefined && !held.has(id)) throw new CodecKeyMissingError(CODEC_KEYS_ENV, id, [...held], `for replaying ${item.workflowId} (${item.source})`);
      }
    }
  }
}

/** The payloads of one history event, wherever they sit in it. */
function payloadsOfEvent(e: object): object[] {
  const out: object[] = [];
  const visit = (v: unknown): void => {
    if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
    if ('metadata' in v && 'data' in v) out.push(v);
    else Object.values(v).forEach(visit);
  };
  visit(e);
  return out;
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
  // Encrypted histories need their keys: say which, before the replayer reports an unknown encoding per history.
  requireKeysFor(items);
  quietRuntime();
  const outcomes = await replayHistories(items, { workflowsPath }, dataConverter);
  for (const o of outcomes) process.stdout.write(`${renderReplayOutcome(o)}\n`);
  const failed = outcomes.filter((o) => !o.ok).length;
  if (failed) {
    process.stderr.write(`${failed} of ${outcomes.length} histories do not replay with the current workflow code\n`);
    process.exitCode = 1;
  }
}

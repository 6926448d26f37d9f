import cliProgress from 'cli-progress';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { errorChain, rootCause } from '../diagnose';
import { progressQuery, type RunProgress, type ProbeRunResult } from '../workflows/api';
import { RunFailedError } from './errors';

/**
 * A catch handler for a run's result: a run that failed (or was terminated, cancelled, timed out) becomes a
 * RunFailedError naming its root cause, which the CLI prints with the `debug` command; anything else is rethrown.
 */
export function runFailed(runId: string): (e: unknown) => never {
  return (e: unknown) => {
    if (e instanceof WorkflowFailedError) throw new RunFailedError(runId, rootCause(errorChain(e)), { cause: e });
    throw e;
  };
}

/** Follows a run with a progress bar per arm (judged suffixes of the plan) until it closes; returns its result. */
export async function follow(handle: WorkflowHandle, quiet = false): Promise<ProbeRunResult> {
  const result = (handle.result() as Promise<ProbeRunResult>).catch(runFailed(handle.workflowId));
  if (quiet || !process.stderr.isTTY) {
    let last = '';
    const timer = setInterval(async () => {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (!p) return;
      const line = describe(p);
      if (line !== last && !quiet) process.stderr.write(`${line}\n`);
      last = line;
    }, 2000);
    try {
      return await result;
    } finally {
      clearInterval(timer);
    }
  }
  const bars = new cliProgress.MultiBar(
    { format: ' {arm} |{bar}| {value}/{total} judged · thoughts {thoughts} · suffixes {suffixes} · waiting {waiting}', hideCursor: true, clearOnComplete: false, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  const byArm = new Map<string, cliProgress.SingleBar>();
  const update = (p: RunProgress) => {
    for (const [arm, a] of Object.entries(p.arms)) {
      let bar = byArm.get(arm);
      if (!bar) {
        bar = bars.create(a.judge.total || 1, 0, {});
        byArm.set(arm, bar);
      }
      bar.setTotal(a.judge.total || 1);
      bar.update(a.judge.done, { arm: arm.padEnd(18), thoughts: `${a.thought.done}/${a.thought.total}`, suffixes: `${a.suffix.done}/${a.suffix.total}`, waiting: a.judgmentsWaiting });
    }
  };
  const timer = setInterval(() => void handle.query(progressQuery).then(update, () => undefined), 500);
  try {
    const r = await result;
    await handle.query(progressQuery).then(update, () => undefined);
    return r;
  } finally {
    clearInterval(timer);
    bars.stop();
  }
}

/** One line per run state, for logs. */
export function describe(p: RunProgress): string {
  const arms = Object.entries(p.arms).map(([arm, a]) => `${arm} ${a.judge.done}/${a.judge.total}`);
  return `[${p.phase}] ${arms.join(' · ')}`;
}

import { ConfigError } from '../config/errors';
// Type only: this module is loaded by every command (./main, ./commands) and must stay light.
import type { FailureLink } from '../diagnose';

/** Bad input on the command line or in a file: exit code 2, a message naming the field and the fix. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** A run that did not complete, with the root cause Temporal returned for it: exit code 1. */
export class RunFailedError extends Error {
  constructor(
    readonly runId: string,
    /** The failure that says what happened (see diagnose/failure rootCause), with its facts. */
    readonly root: FailureLink | undefined,
    options?: { cause?: unknown },
  ) {
    const verb = root?.kind === 'TerminatedFailure' ? 'was terminated' : root?.kind === 'CancelledFailure' ? 'was cancelled' : root?.kind === 'TimeoutFailure' ? 'timed out' : 'failed';
    super(`run ${runId} ${verb}${root ? `: ${root.type ?? root.kind}: ${root.message}` : ''}`, options);
    this.name = 'RunFailedError';
  }

  /** What the CLI prints: the root cause, its fix (and the field to change), and the command that diagnoses the run. */
  render(): string {
    const fix = this.root?.facts?.fix;
    // FatalEndpointError's message ends with its fix: say it once, on its own line.
    const message = fix && this.message.endsWith(`; ${fix}`) ? this.message.slice(0, -fix.length - 2) : this.message;
    const lines = [`error: ${message}`];
    for (const p of this.root?.problems ?? []) lines.push(`  ${p}`);
    if (fix) lines.push(`  fix${this.root?.facts?.field ? ` ${this.root.facts.field}` : ''}: ${fix}`);
    lines.push(`  what happened and what to do next: thought-probe debug ${this.runId}`);
    return `${lines.join('\n')}\n`;
  }
}

// Failure types that mean this process's environment is wrong (a variable unset or malformed): bad input, exit 2.
const BAD_ENVIRONMENT = ['MissingStoreUrl', 'InvalidCodecKeys', 'CodecKeyMissing'];

/** Prints an error the way the CLI reports it and returns the exit code: 2 for bad input, 1 otherwise. */
export function reportError(err: unknown): number {
  // A store URL or codec keys missing or malformed in this environment are bad input too (matched by failure type, so that this module
  // need not load the error hierarchy, which brings Temporal's common package).
  if (err instanceof ConfigError || err instanceof InputError || BAD_ENVIRONMENT.includes((err as { type?: unknown } | undefined)?.type as string)) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 2;
  }
  if (err instanceof RunFailedError) {
    process.stderr.write(err.render());
    if (process.env.THOUGHT_PROBE_DEBUG) process.stderr.write(`${(err.cause as Error | undefined)?.stack ?? err.stack}\n`);
    return 1;
  }
  const e = err as Error;
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (process.env.THOUGHT_PROBE_DEBUG) process.stderr.write(`${e?.stack}\n`);
  return 1;
}

/** A catch handler that turns "workflow not found" for a run id into bad input (exit 2) and rethrows anything else. */
export function runNotFound(runId: string): (e: Error) => never {
  return (e: Error) => {
    if (e?.name === 'WorkflowNotFoundError') throw new InputError(`run ${runId} not found; check the id with \`temporal workflow list\``);
    throw e;
  };
}

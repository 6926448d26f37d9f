import { ConfigError } from '../config/errors';

/** Bad input on the command line or in a file: exit code 2, a message naming the field and the fix. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Prints an error the way the CLI reports it and returns the exit code: 2 for bad input, 1 otherwise. */
export function reportError(err: unknown): number {
  if (err instanceof ConfigError || err instanceof InputError) {
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
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

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

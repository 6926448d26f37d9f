import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CompareError, compareRuns, renderCompareMarkdown } from '../report/compare';
import { readSamplesFile } from './analyze';
import { InputError } from './errors';
import { writeFilesAtomically } from './io';

/** The samples.jsonl of a run argument: a run directory holding one, or the file itself. */
export function samplesPath(arg: string, name: string): string {
  if (!existsSync(arg)) throw new InputError(`${name}: ${arg} does not exist (give a run directory or a samples.jsonl)`);
  if (statSync(arg).isDirectory()) {
    const file = join(arg, 'samples.jsonl');
    if (!existsSync(file)) throw new InputError(`${name}: ${arg} is a directory without samples.jsonl`);
    return file;
  }
  return arg;
}

async function loadRun(arg: string, name: string) {
  const file = samplesPath(arg, name);
  try {
    return await readSamplesFile(file);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${name}: ${e.message.replace(/^--samples: /, '')}`);
    throw e;
  }
}

export interface CompareCliOptions {
  arm: string[];
  armA?: string;
  armB?: string;
  out?: string;
  seed: string;
}

/** `thought-probe compare RUN_A RUN_B` (its arguments and options are in ./commands, which loads this module to run it). */
export async function compareCommand(runA: string, runB: string, opts: CompareCliOptions): Promise<void> {
  if (!/^\d+$/.test(opts.seed) || !Number.isSafeInteger(Number(opts.seed))) throw new InputError(`--seed: expected a non-negative integer, got "${opts.seed}"`);
  const a = await loadRun(runA, 'RUN_A');
  const b = await loadRun(runB, 'RUN_B');
  let result;
  try {
    result = compareRuns(a.inputs.tally, b.inputs.tally, { arms: opts.arm, armA: opts.armA, armB: opts.armB, seed: Number(opts.seed) });
  } catch (e) {
    if (e instanceof CompareError) throw new InputError(e.message.startsWith(e.argument) ? e.message : `${e.argument}: ${e.message}`);
    throw e;
  }
  const markdown = renderCompareMarkdown(result, { a: runA, b: runB });
  let wrote = '';
  if (opts.out !== undefined) {
    const json = { a: { path: runA, samples: a.file, runIds: a.runIds }, b: { path: runB, samples: b.file, runIds: b.runIds }, ...result };
    const written = writeFilesAtomically(opts.out, { 'compare.json': `${JSON.stringify(json, null, 2)}\n`, 'compare.md': markdown });
    wrote = `\nwrote ${written.join(', ')}\n`;
  }
  process.stdout.write(`${markdown}${wrote}`);
}

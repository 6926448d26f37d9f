import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CompareError, compareRuns, renderCompareMarkdown } from '../report/compare';
import { readSamples } from './analyze';
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

function loadRun(arg: string, name: string) {
  const file = samplesPath(arg, name);
  try {
    return { file, records: readSamples(file) };
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`${name}: ${e.message.replace(/^--samples: /, '')}`);
    throw e;
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

interface CompareCliOptions {
  arm: string[];
  armA?: string;
  armB?: string;
  out?: string;
  seed: string;
}

/** Registers `thought-probe compare`. */
export function register(program: Command): void {
  program
    .command('compare')
    .description('paired comparison of two runs on their shared prefixes: B − A per arm and condition, with bootstrap CI and exact tests')
    .argument('<RUN_A>', 'run directory (with samples.jsonl) or a samples.jsonl: the reference')
    .argument('<RUN_B>', 'run directory (with samples.jsonl) or a samples.jsonl: compared with A')
    .option('--arm <name>', 'compare only this arm (repeatable); default: every arm present in both runs', collect, [])
    .option('--arm-a <name>', 'arm of RUN_A to compare with --arm-b of RUN_B')
    .option('--arm-b <name>', 'arm of RUN_B to compare with --arm-a of RUN_A')
    .option('--seed <n>', 'seed of the bootstrap and permutation draws', '4337')
    .option('--out <dir>', 'also write compare.json and compare.md into this directory')
    .action((runA: string, runB: string, opts: CompareCliOptions) => {
      if (!/^\d+$/.test(opts.seed) || !Number.isSafeInteger(Number(opts.seed))) throw new InputError(`--seed: expected a non-negative integer, got "${opts.seed}"`);
      const a = loadRun(runA, 'RUN_A');
      const b = loadRun(runB, 'RUN_B');
      let result;
      try {
        result = compareRuns(a.records, b.records, { arms: opts.arm, armA: opts.armA, armB: opts.armB, seed: Number(opts.seed) });
      } catch (e) {
        if (e instanceof CompareError) throw new InputError(e.message.startsWith(e.argument) ? e.message : `${e.argument}: ${e.message}`);
        throw e;
      }
      const markdown = renderCompareMarkdown(result, { a: runA, b: runB });
      const runIds = (records: typeof a.records) => [...new Set(records.flatMap((r) => (typeof r.runId === 'string' ? [r.runId] : [])))];
      let wrote = '';
      if (opts.out !== undefined) {
        const json = { a: { path: runA, samples: a.file, runIds: runIds(a.records) }, b: { path: runB, samples: b.file, runIds: runIds(b.records) }, ...result };
        const written = writeFilesAtomically(opts.out, { 'compare.json': `${JSON.stringify(json, null, 2)}\n`, 'compare.md': markdown });
        wrote = `\nwrote ${written.join(', ')}\n`;
      }
      process.stdout.write(`${markdown}${wrote}`);
    });
}

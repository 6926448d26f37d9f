import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { splitDocuments, type DocumentInput } from '../experiment/split';
import { InputError } from './errors';
import { parseJsonl } from '../config/jsonl';
import { writeFilesAtomically } from './io';
import { basename, dirname } from 'node:path';

const DocumentSchema = z.looseObject({ id: z.string().min(1), text: z.string().min(1), sourceId: z.string().min(1).optional() });

function positive(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`${name}: must be a whole number of at least 1, got "${v}"`);
    return n;
  };
}

/** Reads documents `{id, text, sourceId?}` from JSONL; a bad line is an InputError naming it. */
export function readDocuments(file: string): DocumentInput[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`DOCS: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const { values, problems } = parseJsonl(text, file, DocumentSchema, 'document');
  const docs: DocumentInput[] = values.map((d) => ({ id: d.id, text: d.text, ...(d.sourceId ? { sourceId: d.sourceId } : {}) }));
  if (problems.length) problems[problems.length - 1] += ' (expected {"id", "text", "sourceId"?})';
  if (problems.length) throw new InputError(`malformed documents file; nothing was written\n${problems.slice(0, 20).map((p) => `  ${p}`).join('\n')}`);
  return docs;
}

/** Registers `thought-probe dataset split`. */
export function register(program: Command): void {
  const dataset = program.command('dataset').description('prepare held-out datasets');
  dataset
    .command('split')
    .argument('<docs>', 'JSONL of documents {"id", "text", "sourceId"?}')
    .description('cut documents into rows {id, prefix, suffix, sourceId} of exact word counts')
    .requiredOption('--prefix-words <n>', 'words per prefix', positive('--prefix-words'))
    .requiredOption('--suffix-words <n>', 'words per true suffix', positive('--suffix-words'))
    .option('--out <file>', 'write the rows here instead of stdout')
    .action((file: string, opts: { prefixWords: number; suffixWords: number; out?: string }) => {
      const { rows, skipped } = splitDocuments(readDocuments(file), { prefixWords: opts.prefixWords, suffixWords: opts.suffixWords });
      const text = rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
      if (opts.out) writeFilesAtomically(dirname(opts.out), { [basename(opts.out)]: text });
      else process.stdout.write(text);
      process.stderr.write(`${rows.length} rows${skipped.length ? `; skipped ${skipped.length}: ${skipped.map((s) => `${s.id} (${s.reason})`).join(', ')}` : ''}\n`);
    });
}

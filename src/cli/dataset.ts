import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { splitDocuments, type DocumentInput } from '../experiment/split';
import { InputError } from './errors';
import { parseJsonl } from '../config/jsonl';
import { writeFilesAtomically } from './io';
import { basename, dirname } from 'node:path';

const DocumentSchema = z.looseObject({ id: z.string().min(1), text: z.string().min(1), sourceId: z.string().min(1).optional() });

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

/** `thought-probe dataset split DOCS` (its arguments and options are in ./commands, which loads this module to run it). */
export function datasetSplit(file: string, opts: { prefixWords: number; suffixWords: number; out?: string }): void {
  const { rows, skipped } = splitDocuments(readDocuments(file), { prefixWords: opts.prefixWords, suffixWords: opts.suffixWords });
  const text = rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  if (opts.out) writeFilesAtomically(dirname(opts.out), { [basename(opts.out)]: text });
  else process.stdout.write(text);
  process.stderr.write(`${rows.length} rows${skipped.length ? `; skipped ${skipped.length}: ${skipped.map((s) => `${s.id} (${s.reason})`).join(', ')}` : ''}\n`);
}

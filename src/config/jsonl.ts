import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { z } from 'zod';

/** Values and problems of a JSONL text, one problem per bad line (`<file>: line N: ...`). */
export interface ParsedJsonl<T> {
  values: T[];
  problems: string[];
}

/** Parses a JSONL text line by line against a schema, naming every bad line; blank lines are skipped. */
export function parseJsonl<T>(text: string, file: string, schema: z.ZodType<T>, what = 'line'): ParsedJsonl<T> {
  const values: T[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const r = parseJsonlLine(line, i + 1, file, schema, what);
    if ('value' in r) values.push(r.value);
    else problems.push(r.problem);
  });
  return { values, problems };
}

/** The lines of a JSONL file, read as a stream (the file is never held whole), numbered from 1; blank lines skipped. */
export async function* jsonlLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const input = createReadStream(file, { encoding: 'utf8', highWaterMark: 1024 * 1024 });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() !== '') yield { line, text };
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/** Parses one JSONL line against a schema: its value, or the problem (`<file>: line N: ...`). */
export function parseJsonlLine<T>(text: string, line: number, file: string, schema: z.ZodType<T>, what = 'line'): { value: T } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: `${file}: line ${line}: not valid JSON` };
  }
  const r = schema.safeParse(value);
  if (r.success) return { value: r.data };
  return { problem: `${file}: line ${line}: ${r.error.issues.map((x) => `${x.path.join('.') || what}: ${x.message}`).join('; ')}` };
}

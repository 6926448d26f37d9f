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
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problems.push(`${file}: line ${i + 1}: not valid JSON`);
      return;
    }
    const r = schema.safeParse(value);
    if (r.success) values.push(r.data);
    else problems.push(`${file}: line ${i + 1}: ${r.error.issues.map((x) => `${x.path.join('.') || what}: ${x.message}`).join('; ')}`);
  });
  return { values, problems };
}

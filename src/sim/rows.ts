import { readFile } from 'node:fs/promises';
import type { DatasetRow } from '../config/schema';
import { contentSet } from './text';

/** Reads a JSONL file of {id, prefix, suffix, sourceId?} rows (blank lines ignored). */
export async function loadRows(file: string): Promise<DatasetRow[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l, i) => {
      const r = JSON.parse(l) as Partial<DatasetRow>;
      if (typeof r.prefix !== 'string' || typeof r.suffix !== 'string') {
        throw new Error(`${file}:${i + 1}: row needs string prefix and suffix`);
      }
      return { id: String(r.id ?? i), prefix: r.prefix, suffix: r.suffix, sourceId: r.sourceId };
    });
}

/** A dataset row with precomputed lookup data. */
export interface IndexedRow {
  row: DatasetRow;
  index: number;
  key: string;
  suffixWords: Set<string>;
}

/** Finds rows by prompt prefix and scores thoughts against every row's true suffix. */
export class RowIndex {
  readonly rows: IndexedRow[];
  private readonly byLength: IndexedRow[];

  constructor(rows: DatasetRow[]) {
    this.rows = rows.map((row, index) => ({ row, index, key: row.prefix.trimEnd(), suffixWords: contentSet(row.suffix) }));
    this.byLength = [...this.rows].filter((r) => r.key.length > 0).sort((a, b) => b.key.length - a.key.length);
  }

  /** Row whose trimmed prefix is the longest prefix of `prompt`. */
  match(prompt: string): IndexedRow | undefined {
    return this.byLength.find((r) => prompt.startsWith(r.key));
  }
}

/**
 * Deterministic splitting of raw documents into (prefix, suffix) dataset rows.
 *
 * Pure module: no Node built-ins, no I/O; outside src/experiment it imports only the row type of src/config/schema.
 * A "word" is a maximal run of non-whitespace characters. Each piece is the
 * exact slice of the original text from its first word to its last word, so
 * whitespace and newlines *inside* a piece are preserved verbatim; whitespace
 * between the prefix and the suffix (and between windows) is dropped.
 */

import type { DatasetRow } from '../config/schema';

/** A raw document to be cut into prefix/suffix windows. */
export type DocumentInput = { id: string; text: string; sourceId?: string };

/** Window sizes, in whitespace-separated words, used by {@link splitDocuments}. */
export type SplitOptions = { prefixWords: number; suffixWords: number };

/** Result of {@link splitDocuments}: produced rows plus documents too short to yield any. */
export type SplitResult = { rows: DatasetRow[]; skipped: { id: string; reason: string }[] };

type Span = { start: number; end: number };

function wordSpans(text: string): Span[] {
  const spans: Span[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    spans.push({ start: m.index, end: m.index + m[0].length });
  }
  return spans;
}

function assertPositiveInt(name: keyof SplitOptions, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`splitDocuments: ${name} must be an integer >= 1 (got ${String(value)})`);
  }
}

/**
 * Cuts each document into consecutive, non-overlapping windows of exactly
 * `prefixWords` then `suffixWords` words (trailing words that do not fill a
 * whole window are dropped); row ids are `<docId>-<n>` when a document yields
 * several rows, else `<docId>`, and `sourceId` defaults to the document id.
 */
export function splitDocuments(docs: DocumentInput[], opts: SplitOptions): SplitResult {
  assertPositiveInt('prefixWords', opts.prefixWords);
  assertPositiveInt('suffixWords', opts.suffixWords);
  const windowWords = opts.prefixWords + opts.suffixWords;

  const rows: DatasetRow[] = [];
  const skipped: { id: string; reason: string }[] = [];

  for (const doc of docs) {
    const spans = wordSpans(doc.text);
    const windows = Math.floor(spans.length / windowWords);
    if (windows === 0) {
      skipped.push({
        id: doc.id,
        reason: `too short: ${spans.length} words, need at least ${windowWords} (prefixWords ${opts.prefixWords} + suffixWords ${opts.suffixWords})`,
      });
      continue;
    }
    const sourceId = doc.sourceId ?? doc.id;
    for (let n = 0; n < windows; n++) {
      const base = n * windowWords;
      const pStart = spans[base]!.start;
      const pEnd = spans[base + opts.prefixWords - 1]!.end;
      const sStart = spans[base + opts.prefixWords]!.start;
      const sEnd = spans[base + windowWords - 1]!.end;
      rows.push({
        id: windows > 1 ? `${doc.id}-${n}` : doc.id,
        prefix: doc.text.slice(pStart, pEnd),
        suffix: doc.text.slice(sStart, sEnd),
        sourceId,
      });
    }
  }
  return { rows, skipped };
}

import { splitDocuments, type DocumentInput } from '../../src/experiment/split';

/** Builds a text of `n` distinct words: w0 w1 ... w(n-1). */
function words(n: number, sep = ' '): string {
  return Array.from({ length: n }, (_, i) => `w${i}`).join(sep);
}

function count(s: string): number {
  return s.split(/\s+/).filter((t) => t.length > 0).length;
}

describe('splitDocuments', () => {
  it('produces prefixes and suffixes with exact word counts', () => {
    const { rows } = splitDocuments([{ id: 'a', text: words(12) }], { prefixWords: 7, suffixWords: 3 });
    expect(rows).toHaveLength(1);
    expect(count(rows[0]!.prefix)).toBe(7);
    expect(count(rows[0]!.suffix)).toBe(3);
    expect(rows[0]!.prefix).toBe('w0 w1 w2 w3 w4 w5 w6');
    expect(rows[0]!.suffix).toBe('w7 w8 w9');
  });

  it('cuts consecutive non-overlapping windows and drops the incomplete tail', () => {
    const { rows, skipped } = splitDocuments([{ id: 'doc', text: words(11) }], {
      prefixWords: 3,
      suffixWords: 2,
    });
    expect(skipped).toEqual([]);
    expect(rows.map((r) => [r.prefix, r.suffix])).toEqual([
      ['w0 w1 w2', 'w3 w4'],
      ['w5 w6 w7', 'w8 w9'],
    ]);
  });

  it('numbers ids <docId>-<n> from 0 only when a document yields several rows', () => {
    const docs: DocumentInput[] = [
      { id: 'multi', text: words(15) },
      { id: 'single', text: words(6) },
    ];
    const { rows } = splitDocuments(docs, { prefixWords: 3, suffixWords: 2 });
    expect(rows.map((r) => r.id)).toEqual(['multi-0', 'multi-1', 'multi-2', 'single']);
  });

  it('inherits sourceId from the document, defaulting to the document id', () => {
    const { rows } = splitDocuments(
      [
        { id: 'x', text: words(10), sourceId: 'book-7' },
        { id: 'y', text: words(5) },
      ],
      { prefixWords: 3, suffixWords: 2 },
    );
    expect(rows.map((r) => [r.id, r.sourceId])).toEqual([
      ['x-0', 'book-7'],
      ['x-1', 'book-7'],
      ['y', 'y'],
    ]);
  });

  it('lists documents too short for one window in skipped, with a reason', () => {
    const { rows, skipped } = splitDocuments(
      [
        { id: 'short', text: words(4) },
        { id: 'empty', text: '   \n ' },
        { id: 'ok', text: words(5) },
      ],
      { prefixWords: 3, suffixWords: 2 },
    );
    expect(rows.map((r) => r.id)).toEqual(['ok']);
    expect(skipped.map((s) => s.id)).toEqual(['short', 'empty']);
    expect(skipped[0]!.reason).toMatch(/4 words/);
    expect(skipped[0]!.reason).toMatch(/5/);
    expect(skipped[1]!.reason).toMatch(/0 words/);
  });

  it('preserves whitespace inside each piece but trims at piece boundaries', () => {
    const text = '  one two\n\nthree   four\tfive  ';
    const { rows } = splitDocuments([{ id: 'ws', text }], { prefixWords: 3, suffixWords: 2 });
    expect(rows[0]!.prefix).toBe('one two\n\nthree');
    expect(rows[0]!.suffix).toBe('four\tfive');
  });

  it('is deterministic for the same input', () => {
    const docs = [{ id: 'd', text: words(50) }];
    const opts = { prefixWords: 4, suffixWords: 3 };
    expect(splitDocuments(docs, opts)).toEqual(splitDocuments(docs, opts));
  });

  it('throws an Error naming prefixWords when prefixWords < 1', () => {
    expect(() => splitDocuments([], { prefixWords: 0, suffixWords: 2 })).toThrow(/prefixWords/);
    expect(() => splitDocuments([], { prefixWords: -3, suffixWords: 2 })).toThrow(Error);
  });

  it('throws an Error naming suffixWords when suffixWords is not a positive integer', () => {
    expect(() => splitDocuments([], { prefixWords: 2, suffixWords: 0 })).toThrow(/suffixWords/);
    expect(() => splitDocuments([], { prefixWords: 2, suffixWords: 1.5 })).toThrow(/suffixWords/);
  });
});

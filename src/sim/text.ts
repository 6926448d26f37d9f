/** Splits text into whitespace-separated words. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w.length > 0);
}

/** Normalizes a word: lowercase, letters/digits only. */
export function norm(word: string): string {
  return word.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** Set of lowercased content words (length >= 4) of a text. */
export function contentSet(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of words(text)) {
    const n = norm(w);
    if (n.length >= 4) out.add(n);
  }
  return out;
}

/** |a ∩ b| / |b| (0 when b is empty). */
export function coverage(a: Set<string>, b: Set<string>): number {
  if (b.size === 0) return 0;
  let hit = 0;
  for (const w of b) if (a.has(w)) hit++;
  return hit / b.size;
}

/** Keeps the first `max` words; reports whether anything was cut. */
export function truncateWords(text: string, max: number | undefined): { text: string; truncated: boolean } {
  const ws = words(text);
  if (max === undefined || max <= 0 || ws.length <= max) return { text: ws.join(' '), truncated: false };
  return { text: ws.slice(0, max).join(' '), truncated: true };
}

/** Counts whitespace-separated words, as every word metric of the experiment does. */
export function wordCount(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

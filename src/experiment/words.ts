/** Whether a UTF-16 code unit is white space as JavaScript's \s (and String.prototype.trim) count it. */
function isSpace(c: number): boolean {
  if (c > 32 && c < 127) return false;
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Counts whitespace-separated words, as every word metric of the experiment does (`text.trim().split(/\s+/).length`, 0 when empty). */
export function wordCount(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

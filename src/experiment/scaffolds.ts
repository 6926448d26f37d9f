/**
 * The default generic thoughts: neutral scaffolds with no content from any prefix.
 * Two have 11 words and two have 12, so their rotation averages 11.5 words, as in the note.
 */
export const DEFAULT_GENERIC_THOUGHTS: readonly string[] = [
  'Keep the same voice and carry the text forward one step.', // 11
  'Stay consistent with what came before and continue the passage naturally here.', // 12
  'Follow the thread of the passage and write what comes next.', // 11
  'Continue in the same style, staying close to the topic already introduced.', // 12
];

/** The scaffold for prefix index i and sample k: `scaffolds[(i + k) mod len]`. */
export function genericThoughtFor(scaffolds: readonly string[], prefixIndex: number, sample: number): string {
  if (scaffolds.length === 0) throw new Error('genericThoughts must hold at least one scaffold');
  return scaffolds[(prefixIndex + sample) % scaffolds.length]!;
}

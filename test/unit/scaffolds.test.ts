import { DEFAULT_GENERIC_THOUGHTS, genericThoughtFor } from '../../src/experiment/scaffolds';
import { wordCount } from '../../src/experiment/words';

describe('DEFAULT_GENERIC_THOUGHTS', () => {
  it('holds 4 scaffolds of 11, 12, 11 and 12 words', () => {
    expect(DEFAULT_GENERIC_THOUGHTS).toHaveLength(4);
    expect(DEFAULT_GENERIC_THOUGHTS.map(wordCount)).toEqual([11, 12, 11, 12]);
  });

  it('averages exactly 11.5 words over the (i + k) mod 4 rotation for 32 prefixes x 4 samples', () => {
    let total = 0;
    let n = 0;
    for (let i = 0; i < 32; i++) {
      for (let k = 0; k < 4; k++) {
        total += wordCount(genericThoughtFor(DEFAULT_GENERIC_THOUGHTS, i, k));
        n++;
      }
    }
    expect(n).toBe(128);
    expect(total).toBe(1472);
    expect(total / n).toBe(11.5);
  });

  it('contains no think tags', () => {
    for (const s of DEFAULT_GENERIC_THOUGHTS) expect(s).not.toMatch(/<\/?think>/);
  });
});

describe('genericThoughtFor', () => {
  const scaffolds = ['s0', 's1', 's2', 's3'];

  it('picks scaffolds[(i + k) mod len]', () => {
    expect(genericThoughtFor(scaffolds, 0, 0)).toBe('s0');
    expect(genericThoughtFor(scaffolds, 1, 0)).toBe('s1');
    expect(genericThoughtFor(scaffolds, 0, 3)).toBe('s3');
    expect(genericThoughtFor(scaffolds, 5, 2)).toBe('s3');
    expect(genericThoughtFor(scaffolds, 3, 1)).toBe('s0');
    expect(genericThoughtFor(scaffolds, 31, 3)).toBe('s2');
  });

  it('works with a scaffold list of another length', () => {
    expect(genericThoughtFor(['x', 'y', 'z'], 4, 1)).toBe('z');
    expect(genericThoughtFor(['only'], 17, 3)).toBe('only');
  });

  it('throws for an empty scaffold list', () => {
    expect(() => genericThoughtFor([], 0, 0)).toThrow(/at least one scaffold/);
  });
});

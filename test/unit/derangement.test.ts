import { DerangementError, seededDerangement } from '../../src/experiment/derangement';

const isPermutation = (perm: number[], n: number) =>
  perm.length === n && [...perm].sort((a, b) => a - b).every((v, i) => v === i);

describe('seededDerangement', () => {
  it('never maps a prefix to itself, for n = 2..40 over 300 seeds each', () => {
    let fixedPoints = 0;
    let notPermutations = 0;
    for (let n = 2; n <= 40; n++) {
      for (let seed = 0; seed < 300; seed++) {
        const perm = seededDerangement(n, { seed });
        if (!isPermutation(perm, n)) notPermutations++;
        perm.forEach((v, i) => {
          if (v === i) fixedPoints++;
        });
      }
    }
    expect(fixedPoints).toBe(0);
    expect(notPermutations).toBe(0);
  });

  it('for n = 2 the only derangement is the swap [1, 0]', () => {
    expect(seededDerangement(2, { seed: 1 })).toEqual([1, 0]);
    expect(seededDerangement(2, { seed: 999 })).toEqual([1, 0]);
  });

  it('returns the same permutation for the same seed', () => {
    for (const seed of [0, 1, 4337, 123456789]) {
      expect(seededDerangement(12, { seed })).toEqual(seededDerangement(12, { seed }));
    }
  });

  it('gives different permutations for different seeds', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 100; seed++) seen.add(seededDerangement(10, { seed }).join(','));
    // 1,334,961 derangements of 10: 100 seeds should almost never collide.
    expect(seen.size).toBeGreaterThanOrEqual(98);
  });

  it('reaches all 9 derangements of 4 with roughly uniform frequency over 2000 seeds', () => {
    const counts = new Map<string, number>();
    const draws = 2000;
    for (let seed = 0; seed < draws; seed++) {
      const key = seededDerangement(4, { seed }).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const all = ['1032', '1230', '1302', '2031', '2301', '2310', '3012', '3201', '3210'];
    expect([...counts.keys()].sort()).toEqual(all);
    for (const key of all) {
      const share = counts.get(key)! / draws;
      expect(share).toBeGreaterThan(0.07);
      expect(share).toBeLessThan(0.16);
    }
  });

  it.each([1, 0, -3, 2.5, NaN])('throws DerangementError for n = %p', (n) => {
    expect(() => seededDerangement(n, { seed: 1 })).toThrow(DerangementError);
  });

  it('never swaps two prefixes of the same source', () => {
    const sourceIds = ['a', 'a', 'b', 'b', 'c', 'c', undefined, undefined];
    for (let seed = 0; seed < 300; seed++) {
      const perm = seededDerangement(sourceIds.length, { seed, sourceIds });
      expect(isPermutation(perm, sourceIds.length)).toBe(true);
      perm.forEach((j, i) => {
        expect(j).not.toBe(i);
        if (sourceIds[i] !== undefined) expect(sourceIds[j]).not.toBe(sourceIds[i]);
      });
    }
  });

  it('with two sources of two prefixes each reaches exactly the 4 cross-source derangements', () => {
    const sourceIds = ['a', 'a', 'b', 'b'];
    const seen = new Set<string>();
    for (let seed = 0; seed < 400; seed++) seen.add(seededDerangement(4, { seed, sourceIds }).join(''));
    expect([...seen].sort()).toEqual(['2301', '2310', '3201', '3210']);
  });

  it('treats undefined sources as unconstrained (only the fixed-point rule applies)', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 2000; seed++) seen.add(seededDerangement(4, { seed, sourceIds: [undefined, undefined, undefined, undefined] }).join(''));
    expect(seen.size).toBe(9);
  });

  it('throws DerangementError when one source holds more than half of the prefixes', () => {
    expect(() => seededDerangement(4, { seed: 1, sourceIds: ['a', 'a', 'a', 'b'] })).toThrow(DerangementError);
    expect(() => seededDerangement(3, { seed: 1, sourceIds: ['a', 'a', undefined] })).toThrow(DerangementError);
  });

  it('throws DerangementError when sourceIds does not have one entry per prefix', () => {
    expect(() => seededDerangement(4, { seed: 1, sourceIds: ['a', 'b', 'c'] })).toThrow(DerangementError);
  });
});

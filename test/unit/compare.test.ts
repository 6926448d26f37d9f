// Paired run comparison (src/report/compare.ts) against small cases computed by hand.
import { hash32 } from '../../src/experiment/rng';
import { pairedBootstrapCI } from '../../src/experiment/stats';
import { CompareError, armPairs, compareRuns, renderCompareMarkdown, type CompareRecord } from '../../src/report/compare';

/** Records of one arm and condition from `{ prefixId: rewards }`. */
function recs(arm: string, condition: string, rewards: Record<string, (0 | 1 | null)[]>): CompareRecord[] {
  return Object.entries(rewards).flatMap(([prefixId, rs]) => rs.map((reward) => ({ arm, condition, prefixId, reward })));
}

const N = 'normal_model_thought';
const BLANK = 'blank_thought';

describe('compareRuns', () => {
  // Prefix means A = [0, .5, 0, 1], B = [1, 1, .5, 1]: differences B − A = [1, .5, .5, 0].
  const a = recs('x', N, { p1: [0, 0], p2: [1, 0], p3: [0, 0], p4: [1, 1] });
  const b = recs('x', N, { p1: [1, 1], p2: [1, 1], p3: [0, 1], p4: [1, 1] });

  test('means, difference, wins and exact tests of a four-prefix case', () => {
    const r = compareRuns(a, b);
    expect(r.comparisons).toHaveLength(1);
    const [c] = r.comparisons[0]!.conditions;
    expect(c).toMatchObject({
      condition: N,
      prefixesA: 4,
      prefixesB: 4,
      sharedPrefixes: 4,
      rewardMeanA: 3 / 8,
      rewardMeanB: 7 / 8,
      meanA: 0.375,
      meanB: 0.875,
      diff: 0.5,
      wins: 3,
      losses: 0,
      ties: 1,
      // Sign test: 2 · P(X ≤ 0), X ~ Bin(3, ½) = 2/8.
      pSignTest: 0.25,
      // Sign flips of the non-zero differences [1, .5, .5] (sum 2): 2 of the 8 patterns have |sum| ≥ 2.
      pPermutation: 0.25,
      // Any-success: A in p2, p4; B in all four. McNemar on (onlyA 0, onlyB 2): 2 · P(X ≤ 0), X ~ Bin(2, ½) = 0.5.
      anySuccess: { both: 2, onlyA: 0, onlyB: 2, neither: 0, pMcNemar: 0.5 },
    });
    // The bootstrap interval is the stats module's, seeded per arm pair and condition, and holds the mean.
    expect(c!.ci).toEqual(pairedBootstrapCI([1, 0.5, 0.5, 0], { seed: hash32(`4337|compare|x|x|${N}`) }));
    expect(c!.ci![0]).toBeGreaterThanOrEqual(0);
    expect(c!.ci![0]).toBeLessThanOrEqual(0.5);
    expect(c!.ci![1]).toBeGreaterThanOrEqual(0.5);
    expect(c!.ci![1]).toBeLessThanOrEqual(1);
  });

  test('equal differences: a degenerate interval and the exact p-values', () => {
    // A = [.5, 0], B = [1, .5]: both differences are +.5.
    const r = compareRuns(recs('x', N, { q1: [0, 1], q2: [0, 0] }), recs('x', N, { q1: [1, 1], q2: [1, 0] }));
    const c = r.comparisons[0]!.conditions[0]!;
    expect(c.meanA).toBe(0.25);
    expect(c.meanB).toBe(0.75);
    expect(c.diff).toBe(0.5);
    expect(c.ci).toEqual([0.5, 0.5]);
    expect(c.pPermutation).toBe(0.5); // 2 of 4 sign patterns reach |sum| ≥ 1
    expect(c.pSignTest).toBe(0.5); // 2 · (1/4)
    expect(c.anySuccess).toEqual({ both: 1, onlyA: 0, onlyB: 1, neither: 0, pMcNemar: 1 });
    const md = renderCompareMarkdown(r, { a: 'runs/before', b: 'runs/after' });
    expect(md).toContain('| `normal_model_thought` | 2 | 0.2500 | 0.7500 | +0.5000 | [+0.5000, +0.5000] | 0.5000 | 2 / 0 / 0 | 0.5000 | 0 / 1 | 1.0000 |');
    expect(md).toContain('- A: `runs/before`');
    expect(md).toContain('## `x`');
  });

  test('only prefixes with a valid record in both runs are paired; invalid records are left out', () => {
    // p5 only in A, p6 only in B, p7 has no valid record in B; shared: p1 (A .5, B 1) and p2 (A 1, B 0).
    const ra = recs('x', N, { p1: [1, 0], p2: [1, null], p5: [1, 1], p7: [1, 1] });
    const rb = recs('x', N, { p1: [1, 1], p2: [0, 0], p6: [1, 1], p7: [null, null] });
    const c = compareRuns(ra, rb).comparisons[0]!.conditions[0]!;
    expect(c).toMatchObject({ prefixesA: 4, prefixesB: 3, sharedPrefixes: 2, meanA: 0.75, meanB: 0.5, diff: -0.25, wins: 1, losses: 1, ties: 0, pSignTest: 1 });
    // Over all valid records of each run: A 1,0,1,1,1,1,1 = 6/7; B 1,1,0,0,1,1 = 4/6.
    expect(c.rewardMeanA).toBeCloseTo(6 / 7, 15);
    expect(c.rewardMeanB).toBeCloseTo(4 / 6, 15);
    // Differences [+.5, −1]: sum −.5; patterns ±.5 ± 1 give |sum| .5 or 1.5, all ≥ .5.
    expect(c.pPermutation).toBe(1);
    expect(c.anySuccess).toEqual({ both: 1, onlyA: 1, onlyB: 0, neither: 0, pMcNemar: 1 });
  });

  test('no shared prefix: counts are zero and every statistic is null', () => {
    const c = compareRuns(recs('x', N, { p1: [1] }), recs('x', N, { p2: [0] })).comparisons[0]!.conditions[0]!;
    expect(c).toMatchObject({ sharedPrefixes: 0, meanA: null, meanB: null, diff: null, ci: null, pPermutation: null, pSignTest: null, wins: 0, losses: 0, ties: 0 });
    expect(c.anySuccess.pMcNemar).toBeNull();
  });

  test('conditions in one run only are listed, not compared; condition order is the experiment order', () => {
    const ra = [...recs('x', BLANK, { p1: [1] }), ...recs('x', N, { p1: [1] }), ...recs('x', 'generic_thought', { p1: [0] })];
    const rb = [...recs('x', N, { p1: [0] }), ...recs('x', BLANK, { p1: [1] }), ...recs('x', 'same_arm_swapped_thought', { p1: [0] })];
    const cmp = compareRuns(ra, rb).comparisons[0]!;
    expect(cmp.conditions.map((c) => c.condition)).toEqual([N, BLANK]);
    expect(cmp.onlyInA).toEqual(['generic_thought']);
    expect(cmp.onlyInB).toEqual(['same_arm_swapped_thought']);
    expect(renderCompareMarkdown(compareRuns(ra, rb), { a: 'A', b: 'B' })).toContain('Only in A (not compared): `generic_thought`.');
  });

  test('two different arms with armA / armB', () => {
    const ra = [...recs('base', N, { p1: [0, 0], p2: [1, 1] }), ...recs('other', N, { p1: [1, 1] })];
    const rb = recs('trained', N, { p1: [1, 1], p2: [1, 1] });
    const r = compareRuns(ra, rb, { armA: 'base', armB: 'trained' });
    expect(r.comparisons.map((c) => [c.armA, c.armB])).toEqual([['base', 'trained']]);
    expect(r.comparisons[0]!.conditions[0]).toMatchObject({ meanA: 0.5, meanB: 1, diff: 0.5, wins: 1, ties: 1 });
    expect(renderCompareMarkdown(r, { a: 'A', b: 'B' })).toContain('## `base` (A) vs `trained` (B)');
  });
});

describe('armPairs', () => {
  const a = [...recs('a1', N, { p: [1] }), ...recs('both', N, { p: [1] }), ...recs('both2', N, { p: [1] })];
  const b = [...recs('both2', N, { p: [1] }), ...recs('both', N, { p: [1] }), ...recs('b1', N, { p: [1] })];
  const err = (fn: () => unknown): CompareError => {
    try {
      fn();
    } catch (e) {
      if (e instanceof CompareError) return e;
      throw e;
    }
    throw new Error('expected a CompareError');
  };

  test('default: every arm in both runs, in A order', () => {
    expect(armPairs(a, b, {})).toEqual([
      { armA: 'both', armB: 'both' },
      { armA: 'both2', armB: 'both2' },
    ]);
  });

  test('chosen arms, and errors naming the argument', () => {
    expect(armPairs(a, b, { arms: ['both2'] })).toEqual([{ armA: 'both2', armB: 'both2' }]);
    expect(err(() => armPairs(a, b, { arms: ['a1'] }))).toMatchObject({ argument: '--arm', message: expect.stringContaining('not in RUN_B') });
    expect(err(() => armPairs(a, b, { armA: 'a1' })).argument).toBe('--arm-b');
    expect(err(() => armPairs(a, b, { armB: 'b1' })).argument).toBe('--arm-a');
    expect(err(() => armPairs(a, b, { armA: 'nope', armB: 'b1' })).argument).toBe('--arm-a');
    expect(err(() => armPairs(a, b, { armA: 'a1', armB: 'nope' })).argument).toBe('--arm-b');
    expect(err(() => armPairs(a, b, { arms: ['both'], armA: 'a1', armB: 'b1' })).argument).toBe('--arm');
    expect(err(() => armPairs(recs('x', N, { p: [1] }), recs('y', N, { p: [1] }), {})).argument).toBe('RUN_B');
  });
});

// The paired prefix statistics are computed once (comparePaired): the sensitivities of summary.json, its arm
// comparisons and `thought-probe compare` give the same numbers for the same per-prefix values and seed.
import { comparePaired, comparison, pairPrefixMeans, prefixMeans, type ScoredRecord } from '../../src/experiment/metrics';
import { hash32, mulberry32 } from '../../src/experiment/rng';
import { compareArms } from '../../src/experiment/summary';
import { compareRuns } from '../../src/report/compare';

const N = 'normal_model_thought';
const BLANK = 'blank_thought';

type Rewards = Record<string, (0 | 1 | null)[]>;

/** Scored records of one arm and condition from `{ prefixId: rewards }`. */
function recs(arm: string, condition: string, rewards: Rewards): ScoredRecord[] {
  return Object.entries(rewards).flatMap(([prefixId, rs]) =>
    rs.map((reward, sample) => ({ arm, condition, prefixId, sample, reward, thoughtWords: 3, suffixWords: 5 })),
  );
}

/** Rewards of `prefixes` prefixes with 4 samples each (some invalid), ids in an order that is not sorted. */
function randomRewards(seed: number, prefixes: number): Rewards {
  const random = mulberry32(seed);
  const out: Rewards = {};
  for (let i = prefixes - 1; i >= 0; i--) {
    out[i % 2 ? `p${i}` : `Q${i}`] = Array.from({ length: 4 }, () => (random() < 0.1 ? null : random() < 0.4 ? 1 : 0));
  }
  return out;
}

/** Reverses the records so that nothing may depend on their order. */
const reversed = <T>(xs: T[]): T[] => [...xs].reverse();

describe.each([
  // 40 prefixes: more than 20 non-zero differences, so the permutation p-value is a seeded Monte Carlo one.
  ['40 prefixes (Monte Carlo permutation)', randomRewards(1, 40), randomRewards(2, 40)],
  // 6 prefixes: the exact permutation over every sign pattern.
  ['6 prefixes (exact permutation)', randomRewards(3, 6), randomRewards(4, 6)],
])('the same paired data, %s', (_, x, y) => {
  const pairs = pairPrefixMeans(prefixMeans(recs('A', N, x)), prefixMeans(recs('A', N, y)));

  test('summary.json sensitivity and win rates (metrics) equal comparePaired with the same seed', () => {
    const seed = 97;
    const ref = comparePaired(pairs, { seed });
    const { sensitivity, winRates } = comparison(reversed(recs('A', N, x)), recs('A', BLANK, y), seed);
    expect(sensitivity).toEqual({ mean: ref.mean, ci: ref.ci, pPermutation: ref.pPermutation, prefixes: ref.prefixes });
    const m = ref.prefixes;
    expect(winRates).toEqual({
      normalBetter: ref.wins / m,
      interventionBetter: ref.losses / m,
      tie: ref.ties / m,
      pSignTest: ref.pSignTest,
      pMcNemarAnySuccess: ref.anySuccess.pMcNemar,
      prefixes: m,
    });
  });

  test('summary.json arm comparisons (armA − armB) equal metrics for the same per-prefix values', () => {
    const records = reversed([...recs('A', N, x), ...recs('B', N, y)]);
    const [arms] = compareArms(records, ['A', 'B'], 4337);
    const { sensitivity, winRates } = comparison(recs('A', N, x), recs('A', BLANK, y), hash32('4337|arms|A|B'));
    expect(arms).toMatchObject({ mean: sensitivity.mean, ci: sensitivity.ci, pPermutation: sensitivity.pPermutation, pSignTest: winRates.pSignTest, prefixes: sensitivity.prefixes });
    expect([arms!.aBetter, arms!.bBetter, arms!.tie].map((k) => k / arms!.prefixes)).toEqual([winRates.normalBetter, winRates.interventionBetter, winRates.tie]);
  });

  test('compare (run B − run A) equals metrics and comparePaired for the same per-prefix values', () => {
    // x is run B and y is run A, so B − A is the same difference as normal − blank above.
    const runB = recs('A', N, x);
    const runA = reversed(recs('A', N, y));
    const { comparisons } = compareRuns(runA, runB, { seed: 4337 });
    const [c] = comparisons[0]!.conditions;
    const seed = hash32(`4337|compare|A|A|${N}`);
    const { sensitivity, winRates } = comparison(runB, recs('A', BLANK, y), seed);
    expect(c).toMatchObject({ diff: sensitivity.mean, ci: sensitivity.ci, pPermutation: sensitivity.pPermutation, pSignTest: winRates.pSignTest, sharedPrefixes: sensitivity.prefixes });
    expect(c!.anySuccess.pMcNemar).toBe(winRates.pMcNemarAnySuccess);
    const ref = comparePaired(pairs, { seed });
    expect(c).toMatchObject({ meanA: ref.meanY, meanB: ref.meanX, wins: ref.wins, losses: ref.losses, ties: ref.ties });
    expect(c!.anySuccess).toEqual({ both: ref.anySuccess.both, onlyA: ref.anySuccess.onlyY, onlyB: ref.anySuccess.onlyX, neither: ref.anySuccess.neither, pMcNemar: ref.anySuccess.pMcNemar });
  });
});

describe('comparePaired', () => {
  test('pairs prefixes in prefix id order, whatever the order of the maps', () => {
    const x = new Map([['p2', 1], ['p10', 0.5], ['a', 0]]);
    const y = new Map([['a', 0.5], ['p2', 0], ['zz', 1], ['p10', 0.5]]);
    expect(pairPrefixMeans(x, y)).toEqual([
      { prefixId: 'a', x: 0, y: 0.5 },
      { prefixId: 'p10', x: 0.5, y: 0.5 },
      { prefixId: 'p2', x: 1, y: 0 },
    ]);
    expect(pairPrefixMeans(y, x).map((p) => p.prefixId)).toEqual(['a', 'p10', 'p2']);
  });

  test('counts wins, losses, ties and any-success of x over y', () => {
    const c = comparePaired(
      [
        { prefixId: 'a', x: 1, y: 0 },
        { prefixId: 'b', x: 0.5, y: 0.25 },
        { prefixId: 'c', x: 0, y: 0.5 },
        { prefixId: 'd', x: 0, y: 0 },
      ],
      { seed: 1 },
    );
    expect(c).toMatchObject({ prefixes: 4, meanX: 0.375, meanY: 0.1875, mean: 0.1875, wins: 2, losses: 1, ties: 1 });
    expect(c.anySuccess).toMatchObject({ both: 1, onlyX: 1, onlyY: 1, neither: 1, pMcNemar: 1 });
    // Sign test on 2 wins and 1 loss: 2 · P(X ≤ 1), X ~ Bin(3, ½) = 1.
    expect(c.pSignTest).toBe(1);
  });

  test('no shared prefixes: no numbers, nothing faked', () => {
    expect(comparePaired([], { seed: 1 })).toEqual({
      prefixes: 0, meanX: null, meanY: null, mean: null, ci: null, pPermutation: null, wins: 0, losses: 0, ties: 0, pSignTest: null,
      anySuccess: { both: 0, onlyX: 0, onlyY: 0, neither: 0, pMcNemar: null },
    });
  });

  test('bootstrapDraws sets the bootstrap draws only, the permutation keeps its own', () => {
    const pairs = Array.from({ length: 30 }, (_, i) => ({ prefixId: `p${i}`, x: (i * 7) % 5 / 4, y: (i * 3) % 4 / 4 }));
    const few = comparePaired(pairs, { seed: 5, bootstrapDraws: 50 });
    const all = comparePaired(pairs, { seed: 5 });
    expect(few.pPermutation).toBe(all.pPermutation);
    expect(few.ci).not.toEqual(all.ci);
  });
});

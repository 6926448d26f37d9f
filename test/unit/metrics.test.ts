import { comparison, computeMetrics, conditionMetrics, scoreRecord, type ScoredRecord } from '../../src/experiment/metrics';
import { buildSummary } from '../../src/experiment/summary';

const N = 'normal_model_thought';
const B = 'blank_thought';
const G = 'generic_thought';
const S = 'same_arm_swapped_thought';

/** Records of one arm/condition from [prefixId, reward, thoughtWords, suffixWords] tuples; samples count up per prefix. */
function recs(arm: string, condition: string, rows: [string, 0 | 1 | null, number?, number?][]): ScoredRecord[] {
  const next = new Map<string, number>();
  return rows.map(([prefixId, reward, thoughtWords = 0, suffixWords = 0]) => {
    const sample = next.get(prefixId) ?? 0;
    next.set(prefixId, sample + 1);
    return { arm, condition, prefixId, sample, reward, thoughtWords, suffixWords };
  });
}

// Normal, arm A:
//   p1 rewards 1,0,1,null -> p = 2/3     p2 rewards 0,0 -> p = 0
//   p3 null,null -> no valid record     p4 reward 1 -> p = 1
// n = 9, valid = 6, invalid = 3, rewardMean = 3/6, prefixMeanReward = (2/3 + 0 + 1)/3 = 5/9
// thought words 2,4,6,8,1,3,10,20,0 -> 54/9 = 6 (valid only would be 16/6)
// suffix words 5,5,5,5,5,5,14,14,5 -> 63/9 = 7 (valid only would be 5)
const normalA = recs('A', N, [
  ['p1', 1, 2, 5],
  ['p1', 0, 4, 5],
  ['p1', 1, 6, 5],
  ['p1', null, 8, 5],
  ['p2', 0, 1, 5],
  ['p2', 0, 3, 5],
  ['p3', null, 10, 14],
  ['p3', null, 20, 14],
  ['p4', 1, 0, 5],
]);
// Blank: p1 0 -> normal better (+2/3); p2 1 -> blank better (-1); p3 only here; p4 only invalid.
// Paired prefixes p1, p2: mean (2/3 - 1)/2 = -1/6; normal 1/2, blank 1/2, tie 0.
const blankA = recs('A', B, [
  ['p1', 0],
  ['p1', 0],
  ['p2', 1],
  ['p2', null],
  ['p3', 1],
  ['p3', 1],
  ['p4', null],
]);
// Generic: p1 (1+1+0)/3 = 2/3 tie; p2 0 tie; p4 1/2 -> normal better (+1/2); p3 only here.
// Paired p1, p2, p4: mean 1/6; normal 1/3, generic 0, tie 2/3.
const genericA = recs('A', G, [
  ['p1', 1],
  ['p1', 1],
  ['p1', 0],
  ['p2', 0],
  ['p3', 0],
  ['p4', 0],
  ['p4', 1],
]);
// Swapped: p1 0 (+2/3), p2 1 (-1), p4 0 (+1): mean 2/9; normal 2/3, swapped 1/3, tie 0.
const swappedA = recs('A', S, [
  ['p1', 0],
  ['p2', 1],
  ['p4', 0],
]);
const normalB = recs('B', N, [['p1', 1]]);

describe('conditionMetrics', () => {
  const m = conditionMetrics(normalA);

  it('counts invalid records in n and the invalid judge rate', () => {
    expect(m.n).toBe(9);
    expect(m.valid).toBe(6);
    expect(m.invalid).toBe(3);
    expect(m.invalidJudgeRate).toBeCloseTo(1 / 3, 15);
  });

  it('averages the reward over valid records only, with a population std', () => {
    expect(m.rewardMean).toBe(0.5);
    // rewards 1,0,1,0,0,1 around 0.5: every squared deviation is 0.25.
    expect(m.rewardStd).toBe(0.5);
  });

  it('gives the mean of prefix means, which differs from the reward mean when prefixes have unequal valid counts', () => {
    expect(m.prefixMeanReward).toBeCloseTo(5 / 9, 15);
    expect(m.prefixMeanReward).not.toBeCloseTo(m.rewardMean!, 5);
  });

  it('leaves a prefix with only invalid records out of the prefix count and the success rates', () => {
    expect(m.prefixes).toBe(3);
    expect(m.anySuccessPrefixRate).toBeCloseTo(2 / 3, 15);
    expect(m.allSuccessPrefixRate).toBeCloseTo(1 / 3, 15);
  });

  it('averages words over all records, invalid ones too', () => {
    expect(m.avgThoughtWords).toBe(6);
    expect(m.avgSuffixWords).toBe(7);
  });

  it('computes the population std on a non-trivial case', () => {
    // rewards 1,0,0,0: mean 0.25, variance (0.5625 + 3 * 0.0625)/4 = 0.1875
    const c = conditionMetrics(recs('A', N, [['p1', 1], ['p1', 0], ['p2', 0], ['p2', 0]]));
    expect(c.rewardStd).toBeCloseTo(Math.sqrt(0.1875), 15);
    expect(c.rewardStd).toBeCloseTo(0.4330127018922193, 15);
  });

  it('returns nulls and zeros for a condition with no valid record', () => {
    const c = conditionMetrics(recs('A', N, [['p1', null, 4, 6], ['p2', null, 2, 2]]));
    expect(c).toEqual({
      n: 2,
      valid: 0,
      invalid: 2,
      invalidJudgeRate: 1,
      rewardMean: null,
      rewardStd: null,
      prefixMeanReward: null,
      anySuccessPrefixRate: null,
      allSuccessPrefixRate: null,
      avgThoughtWords: 3,
      avgSuffixWords: 4,
      prefixes: 0,
      rewardMeanCI: null,
    });
  });

  it('handles an empty list', () => {
    const c = conditionMetrics([]);
    expect(c.n).toBe(0);
    expect(c.invalidJudgeRate).toBe(0);
    expect(c.rewardMean).toBeNull();
    expect(c.avgThoughtWords).toBe(0);
  });
});

describe('comparison', () => {
  it('pairs only prefixes with valid records in both conditions (blank)', () => {
    const { sensitivity, winRates } = comparison(normalA, blankA);
    expect(sensitivity.prefixes).toBe(2);
    expect(sensitivity.mean).toBeCloseTo(-1 / 6, 15);
    // One win each: the two-sided sign test on (1, 1) is min(1, 2 * 3/4) = 1; McNemar on at most one discordant pair is 1.
    expect(winRates).toEqual({ normalBetter: 0.5, interventionBetter: 0.5, tie: 0, pSignTest: 1, pMcNemarAnySuccess: 1, prefixes: 2 });
  });

  it('counts equal prefix means as ties (generic)', () => {
    const { sensitivity, winRates } = comparison(normalA, genericA);
    expect(sensitivity.prefixes).toBe(3);
    expect(sensitivity.mean).toBeCloseTo(1 / 6, 15);
    expect(winRates.prefixes).toBe(3);
    expect(winRates.normalBetter).toBeCloseTo(1 / 3, 15);
    expect(winRates.interventionBetter).toBe(0);
    expect(winRates.tie).toBeCloseTo(2 / 3, 15);
  });

  it('computes the swapped sensitivity and win rates', () => {
    const { sensitivity, winRates } = comparison(normalA, swappedA);
    expect(sensitivity.mean).toBeCloseTo(2 / 9, 15);
    expect(winRates.normalBetter).toBeCloseTo(2 / 3, 15);
    expect(winRates.interventionBetter).toBeCloseTo(1 / 3, 15);
    expect(winRates.tie).toBe(0);
  });

  it('gives null means and rates when no prefix is in both', () => {
    const { sensitivity, winRates } = comparison(recs('A', N, [['p1', 1]]), recs('A', B, [['p2', 0]]));
    expect(sensitivity).toEqual({ mean: null, ci: null, pPermutation: null, prefixes: 0 });
    expect(winRates).toEqual({ normalBetter: null, interventionBetter: null, tie: null, pSignTest: null, pMcNemarAnySuccess: null, prefixes: 0 });
  });
});

describe('computeMetrics', () => {
  // Records arrive in the reverse of the experiment's condition order, arm B first.
  const all = [...normalB, ...swappedA, ...genericA, ...blankA, ...normalA];

  it('orders conditions as in EXPERIMENT.md, whatever order the records come in', () => {
    const m = computeMetrics(all);
    expect(Object.keys(m.arms.A!.conditions)).toEqual([N, B, G, S]);
    expect(Object.keys(m.arms.A!.sensitivity)).toEqual([B, G, S]);
    expect(Object.keys(m.arms.A!.winRates)).toEqual([B, G, S]);
  });

  it('orders arms by armOrder first, then by first appearance', () => {
    expect(Object.keys(computeMetrics(all).arms)).toEqual(['B', 'A']);
    expect(Object.keys(computeMetrics(all, ['A', 'missing']).arms)).toEqual(['A', 'B']);
  });

  it('puts unknown condition names after the known ones, by name', () => {
    const m = computeMetrics([...recs('A', 'zeta', [['p1', 1]]), ...recs('A', 'alpha', [['p1', 1]]), ...recs('A', B, [['p1', 1]])]);
    expect(Object.keys(m.arms.A!.conditions)).toEqual([B, 'alpha', 'zeta']);
  });

  it('has no sensitivity without the baseline, and none for an arm with only the baseline', () => {
    const m = computeMetrics([...recs('A', B, [['p1', 1]]), ...normalB]);
    expect(m.arms.A!.sensitivity).toEqual({});
    expect(m.arms.B!.sensitivity).toEqual({});
    expect(m.arms.B!.winRates).toEqual({});
  });

  it('fills the same numbers per arm and condition as conditionMetrics and comparison', () => {
    const m = computeMetrics(all);
    expect(m.arms.A!.conditions[N]!.rewardMean).toBe(0.5);
    expect(m.arms.A!.conditions[B]!.n).toBe(7);
    expect(m.arms.A!.conditions[B]!.invalid).toBe(2);
    expect(m.arms.A!.sensitivity[B]!.mean).toBeCloseTo(-1 / 6, 15);
    expect(m.arms.A!.winRates[G]!.tie).toBeCloseTo(2 / 3, 15);
    expect(m.arms.B!.conditions[N]!.rewardMean).toBe(1);
  });
});

describe('scoreRecord', () => {
  it('counts whitespace-separated words of thought and suffix', () => {
    const r = scoreRecord({ arm: 'A', condition: N, prefixId: 'p1', sample: 2, reward: null, thought: '  two words ', suffix: 'a\nb\tc  d' });
    expect(r).toEqual({ arm: 'A', condition: N, prefixId: 'p1', sample: 2, reward: null, thoughtWords: 2, suffixWords: 4 });
  });

  it('counts an empty or blank text as 0 words', () => {
    const r = scoreRecord({ arm: 'A', condition: B, prefixId: 'p1', sample: 0, reward: 1, thought: '', suffix: ' \n ' });
    expect(r.thoughtWords).toBe(0);
    expect(r.suffixWords).toBe(0);
  });
});

describe('buildSummary', () => {
  const all = [...normalA, ...blankA, ...genericA, ...swappedA, ...normalB];
  const s = buildSummary(all, { runId: 'run-1', armOrder: ['A', 'B'] });

  it('states the run scale over all records', () => {
    // 9 + 7 + 7 + 3 + 1 = 27 records; invalid: 3 + 2 = 5; p1..p4; samples 0..3.
    expect(s.scale).toEqual({
      arms: 2,
      prefixes: 4,
      samplesPerPrefix: 4,
      judgedSuffixes: 27,
      invalid: 5,
      invalidJudgeRate: 5 / 27,
    });
  });

  it('fills provenance defaults', () => {
    expect(s.runId).toBe('run-1');
    expect(s.runIds).toEqual(['run-1']);
    expect(s.simulated).toBe(false);
    expect(s.config).toBeNull();
    expect(s.configHash).toBeNull();
  });

  it('keeps the provenance it is given', () => {
    const t = buildSummary(normalB, { runId: 'r2', runIds: ['r1', 'r2'], simulated: true, config: { a: 1 }, configHash: 'sha256:x' });
    expect(t.runIds).toEqual(['r1', 'r2']);
    expect(t.simulated).toBe(true);
    expect(t.config).toEqual({ a: 1 });
    expect(t.configHash).toBe('sha256:x');
  });

  it('carries the metrics per arm with the EXPERIMENT.md keys', () => {
    expect(Object.keys(s.arms)).toEqual(['A', 'B']);
    const c = s.arms.A!.conditions[N]!;
    for (const key of ['n', 'valid', 'invalid', 'invalidJudgeRate', 'rewardMean', 'rewardStd', 'prefixMeanReward', 'anySuccessPrefixRate', 'allSuccessPrefixRate', 'avgThoughtWords', 'avgSuffixWords', 'prefixes']) {
      expect(c).toHaveProperty(key);
    }
    expect(s.arms.A!.sensitivity[S]!.mean).toBeCloseTo(2 / 9, 15);
    expect(s.arms.A!.sensitivity[S]!.prefixes).toBe(3);
  });

  it('gives an empty scale for no records', () => {
    const e = buildSummary([], { runId: 'empty' });
    expect(e.scale).toEqual({ arms: 0, prefixes: 0, samplesPerPrefix: 0, judgedSuffixes: 0, invalid: 0, invalidJudgeRate: 0 });
    expect(e.arms).toEqual({});
  });
});

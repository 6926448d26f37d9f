import { cohenKappa, fleissKappa, majorityReward, repeatAgreement, type Judgment } from '../../src/experiment/agreement';
import { judgeAgreement, type JudgedRecord } from '../../src/experiment/judges';
import { computeMetrics, scoreRecord } from '../../src/experiment/metrics';

describe("Fleiss' kappa on hand-computed tables ([ones, zeros] per suffix)", () => {
  test('perfect agreement over both categories is 1', () => {
    expect(fleissKappa([[3, 0], [0, 3], [3, 0], [0, 3]])).toBe(1);
  });

  test('agreement at chance is 0: two raters, P-bar = (1 + 1 + 0 + 0) / 4 = 0.5 = P_e', () => {
    expect(fleissKappa([[2, 0], [0, 2], [1, 1], [1, 1]])).toBe(0);
  });

  test('P_i = 1, 1/3, 1, 1/3 with p = (0.5, 0.5): (2/3 - 1/2) / (1/2) = 1/3', () => {
    expect(fleissKappa([[3, 0], [2, 1], [0, 3], [1, 2]])).toBeCloseTo(1 / 3, 12);
  });

  test('below chance: P-bar = 7/9, P_e = (8/9)^2 + (1/9)^2 = 65/81, kappa = (63 - 65) / (81 - 65) = -0.125', () => {
    expect(fleissKappa([[3, 0], [3, 0], [2, 1]])).toBeCloseTo(-0.125, 12);
  });

  test('every rating in one category leaves kappa undefined; so do no subjects and single raters', () => {
    expect(fleissKappa([[3, 0], [3, 0]])).toBeNull();
    expect(fleissKappa([])).toBeNull();
    expect(fleissKappa([[1, 0], [0, 1]])).toBeNull();
    expect(() => fleissKappa([[3, 0], [1, 1]])).toThrow(/same number of ratings/);
  });
});

describe("Cohen's kappa on hand-computed tables", () => {
  const rep = (n: number, pair: [0 | 1, 0 | 1]) => Array.from({ length: n }, () => pair);

  test('perfect agreement is 1', () => {
    expect(cohenKappa([[1, 1], [0, 0], [1, 1], [0, 0]])).toBe(1);
  });

  test('agreement at chance is 0: p_o = 0.5, p_e = 0.5 x 0.5 + 0.5 x 0.5', () => {
    expect(cohenKappa([[1, 1], [1, 0], [0, 1], [0, 0]])).toBe(0);
  });

  test('4 both 1, 1 only A, 2 only B, 3 both 0: p_o = 0.7, p_e = 0.5 x 0.6 + 0.5 x 0.4 = 0.5, kappa 0.4', () => {
    expect(cohenKappa([...rep(4, [1, 1]), ...rep(1, [1, 0]), ...rep(2, [0, 1]), ...rep(3, [0, 0])])).toBeCloseTo(0.4, 12);
  });

  test('complete disagreement on balanced scores is -1; one shared score everywhere is undefined', () => {
    expect(cohenKappa([[1, 0], [0, 1]])).toBe(-1);
    expect(cohenKappa([[1, 1], [1, 1]])).toBeNull();
    expect(cohenKappa([])).toBeNull();
  });
});

describe('majority of repeated judgments', () => {
  test('the majority of the valid scores; a tie goes to the first valid one; none valid is null', () => {
    expect(majorityReward([1, 0, 1])).toBe(1);
    expect(majorityReward([0, null, 0])).toBe(0);
    expect(majorityReward([null, 0, 1])).toBe(0);
    expect(majorityReward([1, null, 0])).toBe(1);
    expect(majorityReward([null, null, null])).toBeNull();
  });

  test('unanimity counts suffixes with a valid judgment; Fleiss over those with every judgment valid', () => {
    const j = (score: 0 | 1 | null): Judgment => ({ score, valid: score !== null, raw: '', attempts: 1 });
    const a = repeatAgreement([[j(1), j(1), j(1)], [j(0), j(1), j(0)], [j(0), j(0), j(0)], [j(null), j(1), j(1)], [j(null), j(null), j(null)]]);
    expect(a.suffixes).toBe(4);
    expect(a.unanimous).toBe(3 / 4);
    expect(a.complete).toBe(3);
    expect(a.fleissKappa).toBeCloseTo(fleissKappa([[3, 0], [1, 2], [0, 3]])!, 12);
  });
});

describe('judgeAgreement of records', () => {
  const rec = (arm: string, condition: string, prefixId: string, reward: 0 | 1, b: 0 | 1): JudgedRecord => ({
    arm, condition, prefixId, sample: 0, thought: 't', suffix: 's', reward,
    judgments: [{ score: reward, valid: true, raw: '', attempts: 1 }],
    judges: { b: { reward: b, judgments: [{ score: b, valid: true, raw: '', attempts: 1 }] } },
  });
  // 12 prefixes: under the main judge normal always wins over blank; judge b agrees on normal, sees blank win on half.
  const records = Array.from({ length: 12 }, (_, i) => [rec('a', 'normal_model_thought', `p${i}`, 1, 1), rec('a', 'blank_thought', `p${i}`, 0, (i % 2) as 0 | 1)]).flat();

  test('absent when every suffix was judged once by one judge', () => {
    expect(judgeAgreement(records.map(({ judges: _j, judgments: _k, ...r }) => r))).toBeUndefined();
  });

  test('reward means per judge, Cohen between the judges, and the claim supported under the main judge only', () => {
    const a = judgeAgreement(records, { seed: 4337 })!;
    expect(a.repeats).toBeUndefined();
    expect(a.judges!.names).toEqual(['judge', 'b']);
    expect(a.judges!.rewardMeans.judge!.a).toEqual({ normal_model_thought: 1, blank_thought: 0 });
    expect(a.judges!.rewardMeans.b!.a).toEqual({ normal_model_thought: 1, blank_thought: 0.5 });
    // 24 suffixes: 18 agree; p_e = (12/24)(18/24) + (12/24)(6/24) = 0.5; kappa = (0.75 - 0.5) / 0.5 = 0.5.
    expect(a.judges!.pairs).toEqual([{ judgeA: 'judge', judgeB: 'b', suffixes: 24, agreement: 0.75, cohenKappa: 0.5 }]);
    const s = a.judges!.sensitivity.a!.blank_thought!;
    expect(s.judge!.mean).toBe(1);
    expect(s.judge!.supported).toBe(true);
    expect(s.b!.mean).toBe(0.5);
    // The main judge's sensitivity is the summary's own, seeds and all.
    const main = computeMetrics(records.map(scoreRecord), [], 4337).arms.a!.sensitivity.blank_thought!;
    expect({ mean: s.judge!.mean, ci: s.judge!.ci, pPermutation: s.judge!.pPermutation }).toEqual({ mean: main.mean, ci: main.ci, pPermutation: main.pPermutation });
  });
});

import { buildSummary, compareArms } from '../../src/experiment/summary';
import { renderReport } from '../../src/experiment/report';
import type { ScoredRecord } from '../../src/experiment/metrics';

const rec = (arm: string, prefixId: string, sample: number, reward: 0 | 1 | null, condition = 'normal_model_thought'): ScoredRecord => ({
  arm, condition, prefixId, sample, reward, thoughtWords: 3, suffixWords: 5,
});

// Prefix means under normal: A = [1, 1, 0.5], B = [0, 0.5, 0.5] -> differences [1, 0.5, 0].
const records = [
  rec('A', 'p0', 0, 1), rec('A', 'p0', 1, 1), rec('A', 'p1', 0, 1), rec('A', 'p1', 1, 1), rec('A', 'p2', 0, 1), rec('A', 'p2', 1, 0),
  rec('B', 'p0', 0, 0), rec('B', 'p0', 1, 0), rec('B', 'p1', 0, 1), rec('B', 'p1', 1, 0), rec('B', 'p2', 0, 0), rec('B', 'p2', 1, 1),
  // Another condition never enters the arm comparison.
  rec('B', 'p0', 0, 1, 'blank_thought'),
];

test('arms are compared under the baseline, paired by prefix, with the same tests as the sensitivities', () => {
  const [c] = compareArms(records, ['A', 'B']);
  expect(c).toMatchObject({ armA: 'A', armB: 'B', condition: 'normal_model_thought', aBetter: 2, bBetter: 0, tie: 1, prefixes: 3 });
  expect(c!.mean).toBeCloseTo(0.5, 12);
  // Sign test on 2 wins and 0 losses: 2 * (1/2)^2 = 0.5.
  expect(c!.pSignTest).toBeCloseTo(0.5, 12);
  // Sign flips of the non-zero differences (1, 0.5): sums 1.5, 0.5, -0.5, -1.5; two of four reach |1.5|.
  expect(c!.pPermutation).toBeCloseTo(0.5, 12);
  expect(c!.ci![0]).toBeGreaterThanOrEqual(0);
  expect(c!.ci![1]).toBeLessThanOrEqual(1);
});

test('the report states whether one arm beats another under the normal condition', () => {
  const md = renderReport(buildSummary(records, { runId: 'arms', armOrder: ['A', 'B'] }));
  expect(md).toContain('| `A` | `B` | +0.5000 |');
  expect(md).toContain('- `A` and `B` differ under `normal_model_thought`: not supported (the interval includes zero or p >= 0.05) (difference +0.5000');
});

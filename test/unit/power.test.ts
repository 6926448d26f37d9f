import { minimumDetectableEffect, powerEstimate, powerMultiplier, powerTable, prefixesNeeded, sampleSd } from '../../src/experiment/power';
import { computeMetrics, type ScoredRecord } from '../../src/experiment/metrics';

// z(0.975) = 1.959964, z(0.8) = 0.841621, z(0.9) = 1.281552, z(0.995) = 2.575829 (normal tables).
describe('the paired normal approximation, on hand-computed cases', () => {
  test('the multiplier is z(1 - alpha/2) + z(power)', () => {
    expect(powerMultiplier()).toBeCloseTo(1.959964 + 0.841621, 5);
    expect(powerMultiplier(0.01, 0.9)).toBeCloseTo(2.575829 + 1.281552, 5);
    expect(powerMultiplier(0.05, 0.5)).toBeCloseTo(1.959964, 5);
  });

  test('sd 1, D 0.2, power 0.5: (1.959964 x 5)^2 = 96.04, so 97 prefixes', () => {
    expect(prefixesNeeded(1, 0.2, 0.05, 0.5)).toBe(97);
  });

  test('sd 0.5, D 0.1, alpha 0.05, power 0.8: (2.801585 x 5)^2 = 196.22, so 197 prefixes; the sign of D does not matter', () => {
    expect(prefixesNeeded(0.5, 0.1)).toBe(197);
    expect(prefixesNeeded(0.5, -0.1)).toBe(197);
  });

  test('differences 1, 0, 0, 1: mean 0.5, sd sqrt(1/3); needs ceil((2.801585 x 0.57735 / 0.5)^2) = ceil(10.465) = 11; MDE at 4 is 2.801585 x 0.57735 / 2 = 0.808748', () => {
    expect(sampleSd([1, 0, 0, 1])).toBeCloseTo(Math.sqrt(1 / 3), 12);
    const e = powerEstimate([1, 0, 0, 1]);
    expect(e.effect).toBe(0.5);
    expect(e.prefixes).toBe(4);
    expect(e.sd).toBeCloseTo(0.5773503, 6);
    expect(e.prefixesNeeded).toBe(11);
    expect(e.minimumDetectableEffect).toBeCloseTo(0.808748, 5);
    expect(minimumDetectableEffect(Math.sqrt(1 / 3), 4)).toBe(e.minimumDetectableEffect);
    // A given effect replaces the observed one for prefixesNeeded only: ceil((1.617496 / 0.25)^2) = ceil(41.86) = 42.
    const d = powerEstimate([1, 0, 0, 1], { effect: 0.25 });
    expect(d.effect).toBe(0.5);
    expect(d.prefixesNeeded).toBe(42);
  });

  test('no effect needs no finite prefix count, and one prefix has no sd', () => {
    expect(powerEstimate([0.5, -0.5]).prefixesNeeded).toBeNull();
    expect(powerEstimate([0.25])).toEqual({ effect: 0.25, sd: null, prefixes: 1, minimumDetectableEffect: null, prefixesNeeded: null });
    expect(powerEstimate([])).toEqual({ effect: null, sd: null, prefixes: 0, minimumDetectableEffect: null, prefixesNeeded: null });
  });
});

describe('powerTable', () => {
  const rec = (arm: string, condition: string, prefixId: string, sample: number, reward: 0 | 1 | null): ScoredRecord => ({ arm, condition, prefixId, sample, reward, thoughtWords: 1, suffixWords: 1 });
  // Prefix means, normal: p0 1, p1 0.5, p2 0, p3 1; blank: p0 0, p1 0.5, p2 0, p3 0 (p3's second blank is invalid).
  const records = [
    rec('a', 'normal_model_thought', 'p0', 0, 1), rec('a', 'normal_model_thought', 'p0', 1, 1),
    rec('a', 'normal_model_thought', 'p1', 0, 1), rec('a', 'normal_model_thought', 'p1', 1, 0),
    rec('a', 'normal_model_thought', 'p2', 0, 0), rec('a', 'normal_model_thought', 'p2', 1, 0),
    rec('a', 'normal_model_thought', 'p3', 0, 1), rec('a', 'normal_model_thought', 'p3', 1, 1),
    rec('a', 'blank_thought', 'p0', 0, 0), rec('a', 'blank_thought', 'p0', 1, 0),
    rec('a', 'blank_thought', 'p1', 0, 0), rec('a', 'blank_thought', 'p1', 1, 1),
    rec('a', 'blank_thought', 'p2', 0, 0), rec('a', 'blank_thought', 'p2', 1, 0),
    rec('a', 'blank_thought', 'p3', 0, 0), rec('a', 'blank_thought', 'p3', 1, null),
  ];

  test('differences of prefix means against normal_model_thought: 1, 0, 0, 1; the effect is the summary\'s sensitivity', () => {
    const t = powerTable(records);
    expect(Object.keys(t)).toEqual(['a']);
    expect(t.a!.blank_thought).toEqual(powerEstimate([1, 0, 0, 1]));
    expect(t.a!.blank_thought!.effect).toBe(computeMetrics(records).arms.a!.sensitivity.blank_thought!.mean);
  });

  test('an arm without valid normal records is left out', () => {
    expect(powerTable([rec('b', 'blank_thought', 'p0', 0, 1), rec('b', 'normal_model_thought', 'p0', 0, null)])).toEqual({});
  });
});

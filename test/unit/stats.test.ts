import { hash32, mulberry32 } from '../../src/experiment/rng';
import {
  binomialCdf,
  clusterMeanCI,
  mcnemarExactPValue,
  normalCdf,
  normalQuantile,
  pairedBootstrapCI,
  quantileType7,
  signFlipPValue,
  signTestPValue,
  tCdf,
  tQuantile,
} from '../../src/experiment/stats';

// Closed-form t quantiles (Student's t, Wikipedia "Quantile function"):
//   df = 1: tan(π(p − ½));  df = 2: (2p − 1)/√(2p(1 − p));
//   df = 4: 2·√(q − 1), q = cos(⅓·arccos(√α))/√α, α = 4p(1 − p)  (for p > ½).
const t1 = (p: number) => Math.tan(Math.PI * (p - 0.5));
const t2 = (p: number) => (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
const t4 = (p: number) => {
  const alpha = 4 * p * (1 - p);
  const q = Math.cos(Math.acos(Math.sqrt(alpha)) / 3) / Math.sqrt(alpha);
  return 2 * Math.sqrt(q - 1);
};
// Closed-form t CDF for df = 3: ½ + (1/π)·[t/(√3(1 + t²/3)) + arctan(t/√3)].
const cdf3 = (t: number) => 0.5 + (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))) / Math.PI;

describe('mulberry32', () => {
  it('keeps the stream every bootstrap and permutation draw comes from', () => {
    const stream = (seed: number) => {
      const random = mulberry32(seed);
      return [random(), random(), random()].map((x) => x * 4294967296);
    };
    expect(stream(0)).toEqual([1144304738, 1416247, 958946056]);
    expect(stream(4337)).toEqual([1630677898, 3788816666, 3651621832]);
  });
});

describe('tQuantile', () => {
  it('matches printed t tables to 4 decimals', () => {
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.7062, 4);
    expect(tQuantile(0.975, 10)).toBeCloseTo(2.2281, 4);
    expect(tQuantile(0.975, 31)).toBeCloseTo(2.0395, 4);
    expect(tQuantile(0.995, 5)).toBeCloseTo(4.0321, 4);
    expect(tQuantile(0.95, 20)).toBeCloseTo(1.7247, 4);
    expect(tQuantile(0.9, 30)).toBeCloseTo(1.3104, 4);
  });

  it('matches the closed forms for df = 1, 2 and 4', () => {
    for (const p of [0.55, 0.75, 0.9, 0.975, 0.999]) {
      expect(tQuantile(p, 1)).toBeCloseTo(t1(p), 9);
      expect(tQuantile(p, 2)).toBeCloseTo(t2(p), 9);
      expect(tQuantile(p, 4)).toBeCloseTo(t4(p), 9);
      expect(tQuantile(1 - p, 4)).toBeCloseTo(-t4(p), 9);
    }
  });

  it('inverts the closed-form df = 3 CDF, and tCdf agrees with it', () => {
    for (const t of [-6, -1.5, 0, 0.3, 2, 10]) expect(tCdf(t, 3)).toBeCloseTo(cdf3(t), 12);
    for (const p of [0.001, 0.3, 0.8, 0.975]) expect(cdf3(tQuantile(p, 3))).toBeCloseTo(p, 10);
  });

  it('tends to the normal quantile 1.959964 as df grows', () => {
    expect(tQuantile(0.975, Infinity)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(1.96, 4);
    // Cornish–Fisher: t ≈ z + (z³ + z)/(4ν) with z = 1.959963984540054, ν = 1e6 (next term is ~3e-12).
    const z = 1.959963984540054;
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(z + (z ** 3 + z) / 4e6, 9);
    // The large-df tail switches method at 1e5: the quantile stays continuous there.
    expect(Math.abs(tQuantile(0.975, 99999) - tQuantile(0.975, 100000))).toBeLessThan(1e-8);
    expect(tQuantile(0.975, 1e12)).toBeCloseTo(z, 9);
  });

  it('is symmetric, zero at the median, and rejects bad arguments', () => {
    expect(tQuantile(0.5, 7)).toBe(0);
    expect(tQuantile(0.025, 10)).toBeCloseTo(-tQuantile(0.975, 10), 12);
    expect(() => tQuantile(0, 5)).toThrow(RangeError);
    expect(() => tQuantile(1, 5)).toThrow(RangeError);
    expect(() => tQuantile(0.9, 0)).toThrow(RangeError);
  });

  it('normalCdf matches known values', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 14);
  });
});

describe('clusterMeanCI', () => {
  it('computes the example [[1,0],[0,0],[1,1]] by hand', () => {
    // Σy = 3, Σn = 6 → mean ½. Cluster residual sums Σ_j(y − ½): 0, −1, +1 → Σ² = 2.
    // V = (3/2)·2/6² = 1/12. df = 2.
    // level 0.95: t_{2,0.975} = 0.95/√(2·0.975·0.025) = 4.3027 → half-width 1.242 → clipped to [0, 1].
    expect(clusterMeanCI([[1, 0], [0, 0], [1, 1]])).toEqual([0, 1]);
    // level 0.5: t_{2,0.75} = 0.5/√(2·0.75·0.25) = √(2/3); half-width √(2/3)·√(1/12) = √(1/18).
    const ci = clusterMeanCI([[1, 0], [0, 0], [1, 1]], 0.5)!;
    expect(ci[0]).toBeCloseTo(0.5 - Math.sqrt(1 / 18), 10);
    expect(ci[1]).toBeCloseTo(0.5 + Math.sqrt(1 / 18), 10);
  });

  it('computes an unclipped example with unequal cluster sizes by hand', () => {
    // Σy = 2+0+3+1+1 = 7, Σn = 3+2+4+2+3 = 14 → mean ½.
    // Residual sums: 2 − 1.5 = 0.5, 0 − 1 = −1, 3 − 2 = 1, 1 − 1 = 0, 1 − 1.5 = −0.5 → Σ² = 2.5.
    // V = (5/4)·2.5/14² = 3.125/196; t_{4,0.975} from the df = 4 closed form (2.776445).
    const half = t4(0.975) * Math.sqrt(3.125 / 196); // ≈ 0.350577
    const ci = clusterMeanCI([[1, 0, 1], [0, 0], [1, 1, 1, 0], [0, 1], [1, 0, 0]])!;
    expect(ci[0]).toBeCloseTo(0.5 - half, 9);
    expect(ci[1]).toBeCloseTo(0.5 + half, 9);
    expect(ci[0]).toBeCloseTo(0.149423, 5);
    expect(ci[1]).toBeCloseTo(0.850577, 5);
  });

  it('centres on the ratio estimator Σy/Σn, not the mean of cluster means', () => {
    // Σy = 4, Σn = 5 → mean 0.8 (cluster means would give 0.5). Residual sums 4 − 3.2 = 0.8 and 0 − 0.8 = −0.8,
    // Σ² = 1.28, V = 2·1.28/25 = 0.1024 → SE 0.32; level 0.1: t_{1,0.55} = tan(0.05π).
    const half = Math.tan(0.05 * Math.PI) * 0.32;
    const ci = clusterMeanCI([[1, 1, 1, 1], [0]], 0.1)!;
    expect(ci[0]).toBeCloseTo(0.8 - half, 10);
    expect(ci[1]).toBeCloseTo(0.8 + half, 10);
  });

  it('is null with fewer than two non-empty clusters', () => {
    expect(clusterMeanCI([])).toBeNull();
    expect(clusterMeanCI([[1, 0, 1]])).toBeNull();
    expect(clusterMeanCI([[1, 0, 1], []])).toBeNull();
    expect(() => clusterMeanCI([[1], [0]], 1)).toThrow(RangeError);
  });
});

describe('pairedBootstrapCI', () => {
  const mixed = [0.31, -0.12, 0.57, 0.05, -0.33, 0.21, 0.44, 0.02, 0.18, -0.07];
  const mixedMean = 1.26 / 10;

  it('gives a point interval for constant differences', () => {
    expect(pairedBootstrapCI(Array(8).fill(0.25), { seed: 1 })).toEqual([0.25, 0.25]);
  });

  it('is null for no prefixes', () => {
    expect(pairedBootstrapCI([], { seed: 1 })).toBeNull();
  });

  it('contains the mean of a mixed example', () => {
    const [lo, hi] = pairedBootstrapCI(mixed, { seed: 3 })!;
    expect(lo).toBeLessThan(mixedMean);
    expect(hi).toBeGreaterThan(mixedMean);
    expect(lo).toBeGreaterThanOrEqual(Math.min(...mixed));
    expect(hi).toBeLessThanOrEqual(Math.max(...mixed));
  });

  it('is reproducible for a seed and moves slightly with another seed', () => {
    const a = pairedBootstrapCI(mixed, { seed: 11 })!;
    expect(pairedBootstrapCI(mixed, { seed: 11 })).toEqual(a);
    const b = pairedBootstrapCI(mixed, { seed: 12 })!;
    expect(b).not.toEqual(a);
    expect(Math.abs(b[0] - a[0])).toBeLessThan(0.03);
    expect(Math.abs(b[1] - a[1])).toBeLessThan(0.03);
  });

  it('narrows as the number of prefixes grows (about 1/√n)', () => {
    const width = (ci: [number, number] | null) => ci![1] - ci![0];
    const w1 = width(pairedBootstrapCI(mixed, { seed: 5 }));
    const w16 = width(pairedBootstrapCI(Array(16).fill(mixed).flat(), { seed: 5 }));
    expect(w16).toBeLessThan(w1 / 2);
    expect(w16).toBeGreaterThan(w1 / 8);
  });

  it('approximates the normal-theory interval for ±1 differences', () => {
    // 50 × (+1), 50 × (−1): mean 0, population SD 1 → bootstrap SE of the mean 0.1, interval ≈ ±1.96·0.1.
    const diffs = [...Array(50).fill(1), ...Array(50).fill(-1)];
    const [lo, hi] = pairedBootstrapCI(diffs, { seed: 9 })!;
    expect(Math.abs(lo + 0.196)).toBeLessThan(0.03);
    expect(Math.abs(hi - 0.196)).toBeLessThan(0.03);
    const [lo50, hi50] = pairedBootstrapCI(diffs, { seed: 9, level: 0.5 })!;
    expect(lo50).toBeGreaterThan(lo);
    expect(hi50).toBeLessThan(hi);
  });

  it('follows the documented algorithm: seeded index resampling and type-7 quantiles', () => {
    const diffs = [0.5, -0.25, 1, 0];
    const random = mulberry32(hash32('bootstrap|42'));
    const means: number[] = [];
    for (let b = 0; b < 5; b++) {
      let s = 0;
      for (let i = 0; i < 4; i++) s += diffs[Math.floor(random() * 4)];
      means.push(s / 4);
    }
    means.sort((x, y) => x - y);
    // Type 7 with n = 5: h = 4·0.025 = 0.1 and h = 4·0.975 = 3.9.
    const expected = [means[0] + 0.1 * (means[1] - means[0]), means[3] + 0.9 * (means[4] - means[3])];
    const got = pairedBootstrapCI(diffs, { seed: 42, draws: 5 })!;
    expect(got[0]).toBeCloseTo(expected[0], 14);
    expect(got[1]).toBeCloseTo(expected[1], 14);
  });

  it('quantileType7 interpolates linearly', () => {
    // h = (n − 1)p: 3·0.025 = 0.075 → 1.075; 3·0.975 = 2.925 → 3.925; 3·0.5 = 1.5 → 2.5.
    expect(quantileType7([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantileType7([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 12);
    expect(quantileType7([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileType7([1, 2, 3, 4], 1)).toBe(4);
    expect(quantileType7([7], 0.3)).toBe(7);
  });
});

describe('signFlipPValue', () => {
  /** Independent brute force over all sign masks (the test's own oracle). */
  const bruteForce = (d: number[]) => {
    const nz = d.filter((x) => x !== 0);
    const obs = Math.abs(nz.reduce((a, b) => a + b, 0));
    let hits = 0;
    for (let mask = 0; mask < 2 ** nz.length; mask++) {
      let s = 0;
      for (let i = 0; i < nz.length; i++) s += mask & (1 << i) ? -nz[i] : nz[i];
      if (Math.abs(s) >= obs - 1e-12) hits++;
    }
    return hits / 2 ** nz.length;
  };

  it('enumerates small all-positive examples exactly', () => {
    // Only the all-plus and all-minus patterns reach |Σ| = m.
    expect(signFlipPValue([1, 1, 1], { seed: 1 })).toBe(2 / 8);
    expect(signFlipPValue([1, 1, 1, 1, 1], { seed: 1 })).toBe(2 / 32);
  });

  it('drops zeros', () => {
    // Non-zero [1, 1]: patterns ±1 ± 1 → |Σ| = 2, 0, 0, 2 → 2/4.
    expect(signFlipPValue([1, 0, 1], { seed: 1 })).toBe(0.5);
  });

  it('enumerates [0.5, −0.25, 0.25] by hand', () => {
    // Observed |0.5 − 0.25 + 0.25| = 0.5. The patterns (+ for 0.5; negations give the same |Σ|):
    //   (+,+,+) 0.5 ✓   (+,+,−) 0 ✗   (+,−,+) 1 ✓   (+,−,−) 0.5 ✓   → 2·3/8 = 0.75.
    expect(signFlipPValue([0.5, -0.25, 0.25], { seed: 1 })).toBe(0.75);
  });

  it('counts ties within 1e-12 as extreme', () => {
    // [0.1, 0.2, 0.3]: |Σ| over (+,+,+), (+,+,−), (+,−,+), (−,+,+) = 0.6, 0, 0.2, 0.4 → 2/8.
    expect(signFlipPValue([0.1, 0.2, 0.3], { seed: 1 })).toBe(0.25);
    // 0.1 + 0.2 − 0.3 = 5.6e-17 in floating point, i.e. zero: every pattern is as extreme.
    expect(signFlipPValue([0.1, 0.2, -0.3], { seed: 1 })).toBe(1);
  });

  it('agrees with a brute-force oracle up to m = 20', () => {
    const d = [0.3, -0.1, 0.45, 0.2, 0, 0.05, -0.35, 0.6, 0.15, 0.25, -0.2, 0.1, 0.4, 0.55, -0.05, 0.3, 0.2, 0.1, -0.15, 0.35, 0.25];
    expect(d.filter((x) => x !== 0)).toHaveLength(20);
    expect(signFlipPValue(d, { seed: 1 })).toBe(bruteForce(d));
    expect(signFlipPValue(d.slice(0, 9), { seed: 1 })).toBe(bruteForce(d.slice(0, 9)));
  });

  it('returns 1 for all-zero differences and null for none', () => {
    expect(signFlipPValue([0, 0, 0], { seed: 1 })).toBe(1);
    expect(signFlipPValue([], { seed: 1 })).toBeNull();
  });

  it('follows the documented Monte Carlo scheme: 32 sign bits per generator draw, p = (1 + #)/(draws + 1)', () => {
    const d = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? -0.5 : 0.25 + i / 100));
    const obs = Math.abs(d.reduce((a, b) => a + b, 0));
    const random = mulberry32(hash32('signflip|8'));
    let hits = 0;
    for (let b = 0; b < 200; b++) {
      const lo = (random() * 2 ** 32) >>> 0; // signs of d_0 … d_31
      const hi = (random() * 2 ** 32) >>> 0; // signs of d_32 … d_39
      let s = 0;
      for (let i = 0; i < 40; i++) s += ((i < 32 ? lo >>> i : hi >>> (i - 32)) & 1 ? -1 : 1) * d[i];
      if (Math.abs(s) >= obs - 1e-12) hits++;
    }
    expect(signFlipPValue(d, { seed: 8, draws: 200 })).toBeCloseTo((1 + hits) / 201, 14);
  });

  it('uses Monte Carlo above 20 non-zero differences', () => {
    // m = 25 ones: only 2 of 2^25 patterns are as extreme, so almost surely p = 1/10001.
    const p = signFlipPValue(Array(25).fill(1), { seed: 1 })!;
    expect(p).toBeGreaterThanOrEqual(1 / 10001);
    expect(p).toBeLessThanOrEqual(0.001);
    // Same seed, same p.
    const d = [...Array(16).fill(1), ...Array(9).fill(-1)];
    expect(signFlipPValue(d, { seed: 4 })).toBe(signFlipPValue(d, { seed: 4 }));
    // 16 × (+1), 9 × (−1): Σ = 7; with k plus signs |2k − 25| ≥ 7 ⇔ k ≤ 9 or k ≥ 16, so
    // exact p = 2·Σ_{k≤9} C(25, k)/2^25 = 2·3,850,756/33,554,432 ≈ 0.2295 (Monte Carlo SE ≈ 0.0042).
    const exact = (2 * 3850756) / 33554432;
    expect(Math.abs(signFlipPValue(d, { seed: 4 })! - exact)).toBeLessThan(0.02);
    expect(Math.abs(signFlipPValue(d, { seed: 5, draws: 2000 })! - exact)).toBeLessThan(0.05);
  });
});

describe('binomial tests', () => {
  it('signTestPValue matches hand-computed binomial sums', () => {
    // n = 13, min = 2: 2·(C(13,0) + C(13,1) + C(13,2))/2^13 = 2·(1 + 13 + 78)/8192.
    expect(signTestPValue(11, 2)).toBe(0.0224609375);
    expect(signTestPValue(2, 11)).toBe(0.0224609375);
    // n = 25, min = 9: 2·3,850,756/2^25 (the same sum as the sign-flip example above).
    expect(signTestPValue(16, 9)).toBeCloseTo((2 * 3850756) / 33554432, 14);
    expect(signTestPValue(0, 0)).toBe(1);
    expect(signTestPValue(5, 5)).toBe(1);
    expect(signTestPValue(1, 0)).toBe(1);
    expect(signTestPValue(-1, 2)).toBeNull();
    expect(signTestPValue(1.5, 2)).toBeNull();
  });

  it('mcnemarExactPValue uses the same formula on discordant pairs', () => {
    expect(mcnemarExactPValue(3, 0)).toBe(0.25); // 2·(1/2)^3
    expect(mcnemarExactPValue(0, 3)).toBe(0.25);
    expect(mcnemarExactPValue(0, 0)).toBe(1);
    expect(mcnemarExactPValue(6, 1)).toBeCloseTo((2 * (1 + 7)) / 128, 14);
    expect(() => mcnemarExactPValue(-1, 0)).toThrow(RangeError);
  });

  it('binomialCdf handles general p and the edges', () => {
    expect(binomialCdf(1, 3, 0.2)).toBeCloseTo(0.8 ** 3 + 3 * 0.2 * 0.8 ** 2, 14); // 0.896
    expect(binomialCdf(-1, 3, 0.2)).toBe(0);
    expect(binomialCdf(3, 3, 0.2)).toBe(1);
    expect(binomialCdf(0, 4, 0)).toBe(1);
    expect(binomialCdf(3, 4, 1)).toBe(0);
  });

  it('stays accurate without overflow at n = 10,000', () => {
    // P(X = m) for X ~ Bin(2m, ½) is C(2m, m)/4^m = (1 − 1/(8m) + 1/(128m²) + 5/(1024m³) + …)/√(πm), m = 5000;
    // by symmetry P(X ≤ m − 1) = (1 − P(X = m))/2.
    const m = 5000;
    const central = (1 - 1 / (8 * m) + 1 / (128 * m * m) + 5 / (1024 * m ** 3)) / Math.sqrt(Math.PI * m);
    expect(binomialCdf(m - 1, 2 * m, 0.5)).toBeCloseTo((1 - central) / 2, 12);
    expect(signTestPValue(m, m)).toBe(1);
    expect(signTestPValue(m - 1, m + 1)).toBeCloseTo(1 - central, 12); // 2·P(X ≤ 4999) = 1 − P(X = 5000)
    // All 10,000 one way: 2·2^-10000 underflows to 0 (no NaN or Infinity on the way).
    expect(signTestPValue(10000, 0)).toBe(0);
    // 2·P(X ≤ 4800) for n = 10,000 (SD 50, so 4 SD out): near the continuity-corrected normal 2·Φ(−199.5/50) ≈ 6.6e-5.
    const p = signTestPValue(5200, 4800)!;
    expect(p).toBeGreaterThan(5e-5);
    expect(p).toBeLessThan(8e-5);
  });
});

// Uncertainty for the experiment's metrics (EXPERIMENT.md, "Uncertainty (beyond the note)").
// Pure and deterministic: every random draw comes from a seeded mulberry32 stream.
import { hash32 } from './rng';

// Hot loops use these module-level bindings: global lookups (Math.*) are tens of times slower inside vm
// sandboxes such as Temporal's workflow isolate (and jest's test environment).
const { abs, floor, imul } = Math;

// ---------------------------------------------------------------------------------------------
// Special functions
// ---------------------------------------------------------------------------------------------

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** The natural logarithm of the gamma function for x > 0 (Lanczos, g = 7, about 15 significant digits). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** The continued fraction of the incomplete beta function (modified Lentz, Numerical Recipes `betacf`). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** log Γ(a) − log Γ(a + b) for a ≥ 1e4 from Stirling's series, without the cancellation of two huge terms. */
function logGammaRatioLarge(a: number, b: number): number {
  const corr = (x: number) => 1 / (12 * x) - 1 / (360 * x ** 3) + 1 / (1260 * x ** 5);
  return -(a - 0.5) * Math.log1p(b / a) - b * Math.log(a + b) + b + corr(a) - corr(a + b);
}

/** log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b), stable when one argument is huge. */
function logBeta(a: number, b: number): number {
  const big = Math.max(a, b);
  const small = Math.min(a, b);
  if (big >= 1e4) return logGamma(small) + logGammaRatioLarge(big, small);
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** The regularized incomplete beta function I_x(a, b); `y` = 1 − x may be passed to avoid cancellation. */
function regularizedBeta(x: number, a: number, b: number, y = 1 - x): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const logX = x > 0.5 ? Math.log1p(-y) : Math.log(x);
  const logY = y > 0.5 ? Math.log1p(-x) : Math.log(y);
  const front = Math.exp(a * logX + b * logY - logBeta(a, b));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, y)) / b;
}

/** The regularized upper incomplete gamma function Q(a, x) (series below a + 1, continued fraction above). */
function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const logFront = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 100000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return 1 - sum * Math.exp(logFront);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(logFront) * h;
}

/** The standard normal CDF Φ(z), through erfc(|z|/√2) = Q(½, z²/2). */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const tail = 0.5 * regularizedGammaQ(0.5, (z * z) / 2);
  return z >= 0 ? 1 - tail : tail;
}

/** The standard normal quantile: Acklam's rational approximation refined by one Halley step on `normalCdf`. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const x = acklam(p);
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Acklam's rational approximation of the standard normal quantile (relative error below 1.2e-9). */
function acklam(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pLow) return -acklam(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Above this many degrees of freedom the t tail uses Hill's asymptotic normalization instead of the incomplete beta. */
const LARGE_DF = 1e5;

/**
 * The upper tail P(T > t) of Student's t with df degrees of freedom, for t ≥ 0: the incomplete beta, or for
 * df ≥ 1e5 Hill's (1970, CACM Algorithm 395) normalizing transform (the two agree to about 1e-12 from df = 100).
 */
function tUpperTail(t: number, df: number): number {
  const t2 = t * t;
  if (df >= LARGE_DF) {
    const a = df - 0.5;
    const b = 48 * a * a;
    let y = a * Math.log1p(t2 / df);
    y = (((((-0.4 * y - 3.3) * y - 24) * y - 85.5) / (0.8 * y * y + 100 + b) + y + 3) / b + 1) * Math.sqrt(y);
    return 0.5 * regularizedGammaQ(0.5, (y * y) / 2);
  }
  return 0.5 * regularizedBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
}

/** The density of Student's t with df degrees of freedom. */
function tDensity(t: number, df: number): number {
  const h = df / 2;
  const logRatio = h >= 1e4 ? -logGammaRatioLarge(h, 0.5) : logGamma(h + 0.5) - logGamma(h);
  return Math.exp(logRatio - 0.5 * Math.log(df * Math.PI) - (h + 0.5) * Math.log1p((t * t) / df));
}

/** The cumulative distribution function P(T ≤ t) of Student's t with df > 0 degrees of freedom (df = Infinity: normal). */
export function tCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`tCdf: df must be > 0, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (df === Infinity) return normalCdf(t);
  const upper = tUpperTail(Math.abs(t), df);
  return t >= 0 ? 1 - upper : upper;
}

/**
 * Hill's (1970, CACM Algorithm 396) approximation of the upper-tail t quantile, as in R's `qt`:
 * the t > 0 with P(|T| > t) = twoSided.
 */
function hillUpperQuantile(twoSided: number, df: number): number {
  const a = 1 / (df - 0.5);
  const b = 48 / (a * a);
  let c = (((20700 * a) / b - 98) * a - 16) * a + 96.36;
  const d = ((94.5 / (b + c) - 3) / b + 1) * Math.sqrt((a * Math.PI) / 2) * df;
  let y = Math.pow(d * twoSided, 2 / df);
  if ((df < 2.1 && twoSided > 0.5) || y > 0.05 + a) {
    // Asymptotic inverse expansion about the normal.
    const x = normalQuantile(0.5 * twoSided);
    y = x * x;
    if (df < 5) c += 0.3 * (df - 4.5) * (x + 0.6);
    c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c;
    y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x;
    y = Math.expm1(a * y * y);
  } else {
    y = ((1 / (((df + 6) / (df * y) - 0.089 * d - 0.822) * (df + 2) * 3) + 0.5 / (df + 4)) * y - 1) * ((df + 1) / (df + 2)) + 1 / y;
  }
  return Math.sqrt(df * y);
}

/**
 * The p-quantile of Student's t with df > 0 degrees of freedom: exact for df = 1 and 2, the normal for
 * df = Infinity, otherwise Hill's (1970) start refined by safeguarded Newton steps on `tCdf`, accurate to about 1e-10.
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`tQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`tQuantile: df must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  if (df === Infinity) return normalQuantile(p);
  const sign = p > 0.5 ? 1 : -1;
  const q = p > 0.5 ? 1 - p : p; // upper-tail probability of the positive quantile
  if (df === 1) return sign * Math.tan(Math.PI * (0.5 - q));
  if (df === 2) return sign * Math.sqrt(2 / (4 * q * (1 - q)) - 2);
  // Bracket the root of tUpperTail(t) = q on [lo, hi], start from Hill's approximation.
  let lo = 0;
  let hi = 1;
  while (tUpperTail(hi, df) > q) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) break;
  }
  let t = df >= 1 ? hillUpperQuantile(2 * q, df) : (lo + hi) / 2;
  if (!(t > lo && t < hi)) t = (lo + hi) / 2;
  for (let i = 0; i < 200; i++) {
    const f = tUpperTail(t, df) - q; // decreasing in t
    if (f === 0) break;
    if (f > 0) lo = t;
    else hi = t;
    let next = t + f / tDensity(t, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-14 * Math.max(1, Math.abs(t))) {
      t = next;
      break;
    }
    t = next;
  }
  return sign * t;
}

// ---------------------------------------------------------------------------------------------
// Cluster-robust confidence interval of a mean
// ---------------------------------------------------------------------------------------------

function checkLevel(level: number, fn: string): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`${fn}: level must be in (0, 1), got ${level}`);
}

/**
 * A cluster-robust (by prefix) t-interval for the overall mean of valid rewards: ratio estimator
 * Σy/Σn, sandwich variance (G/(G−1))·Σ_i(Σ_j(y_ij − mean))²/(Σn)², t with G−1 df, clipped to [0, 1];
 * empty groups are ignored, and the result is null with fewer than 2 non-empty groups.
 */
export function clusterMeanCI(groups: number[][], level = 0.95): [number, number] | null {
  checkLevel(level, 'clusterMeanCI');
  const nonEmpty = groups.filter((g) => g.length > 0);
  const G = nonEmpty.length;
  if (G < 2) return null;
  let total = 0;
  let count = 0;
  for (const g of nonEmpty) {
    for (const y of g) {
      if (!Number.isFinite(y)) throw new RangeError(`clusterMeanCI: non-finite value ${y}`);
      total += y;
      count += 1;
    }
  }
  const m = total / count;
  let ss = 0;
  for (const g of nonEmpty) {
    let r = 0;
    for (const y of g) r += y - m;
    ss += r * r;
  }
  const variance = ((G / (G - 1)) * ss) / (count * count);
  const half = tQuantile(1 - (1 - level) / 2, G - 1) * Math.sqrt(variance);
  const clip = (v: number) => Math.min(1, Math.max(0, v));
  return [clip(m - half), clip(m + half)];
}

// ---------------------------------------------------------------------------------------------
// Paired bootstrap and sign-flip permutation test of a sensitivity
// ---------------------------------------------------------------------------------------------

/**
 * The type-7 sample quantile (R's default, linear interpolation) of ascending sorted values:
 * h = (n − 1)·p, value = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]).
 */
export function quantileType7(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantileType7: empty sample');
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantileType7: p must be in [0, 1], got ${p}`);
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  if (lo >= n - 1) return sorted[n - 1];
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

function checkDiffs(diffs: number[], fn: string): void {
  for (const d of diffs) if (!Number.isFinite(d)) throw new RangeError(`${fn}: non-finite difference ${d}`);
}

function checkDraws(draws: number, fn: string): void {
  if (!(Number.isInteger(draws) && draws >= 1)) throw new RangeError(`${fn}: draws must be a positive integer, got ${draws}`);
}

/**
 * The paired percentile-bootstrap interval of a mean prefix difference: each of `draws` (10,000) draws
 * resamples prefix indices with replacement from mulberry32(hash32(`bootstrap|${seed}`)) and takes the mean
 * difference; the bounds are the type-7 quantiles at (1 ± level)/2; null for no prefixes.
 */
export function pairedBootstrapCI(diffs: number[], opts: { draws?: number; seed: number; level?: number }): [number, number] | null {
  const draws = opts.draws ?? 10000;
  const level = opts.level ?? 0.95;
  checkDraws(draws, 'pairedBootstrapCI');
  checkLevel(level, 'pairedBootstrapCI');
  checkDiffs(diffs, 'pairedBootstrapCI');
  const n = diffs.length;
  if (n === 0) return null;
  // mulberry32(hash32(`bootstrap|${seed}`)) inlined: the same draws, without a call per draw (the hot loop of a large run).
  let a = hash32(`bootstrap|${opts.seed}`) >>> 0;
  const d = Float64Array.from(diffs);
  const means = new Float64Array(draws);
  for (let b = 0; b < draws; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = imul(a ^ (a >>> 15), a | 1);
      t ^= t + imul(t ^ (t >>> 7), t | 61);
      s += d[floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n)]!;
    }
    means[b] = s / n;
  }
  means.sort();
  const alpha = (1 - level) / 2;
  return [quantileType7(means, alpha), quantileType7(means, 1 - alpha)];
}

/** All 2^k signed sums ±d_0 ± … ± d_{k−1} (each the sum of at most k terms, so no drift). */
function signedSums(ds: number[]): Float64Array {
  let sums = new Float64Array([0]);
  for (const d of ds) {
    const next = new Float64Array(sums.length * 2);
    for (let i = 0; i < sums.length; i++) {
      next[i] = sums[i] + d;
      next[i + sums.length] = sums[i] - d;
    }
    sums = next;
  }
  return sums;
}

/**
 * The two-sided sign-flip permutation p-value of a mean difference (statistic |Σd|, zeros ignored):
 * exact over all 2^m sign patterns of the m non-zero differences when m ≤ 20 (#{|T*| ≥ |T| − 1e-12}/2^m),
 * otherwise Monte Carlo from mulberry32(hash32(`signflip|${seed}`)) (32 sign bits per draw of the generator)
 * with p = (1 + #)/(draws + 1);
 * 1 when every difference is zero, null for no differences.
 */
export function signFlipPValue(diffs: number[], opts: { seed: number; draws?: number }): number | null {
  const draws = opts.draws ?? 10000;
  checkDraws(draws, 'signFlipPValue');
  checkDiffs(diffs, 'signFlipPValue');
  if (diffs.length === 0) return null;
  const ds = diffs.filter((d) => d !== 0);
  const m = ds.length;
  if (m === 0) return 1;
  let observed = 0;
  for (const d of ds) observed += d;
  const threshold = Math.abs(observed) - 1e-12;
  if (threshold <= 0) return 1; // an observed mean of zero: every pattern is as extreme
  let hits = 0;
  if (m <= 20) {
    // Meet in the middle: a pattern's sum is a + b, a over the first half's signs and b over the second's;
    // |a + b| ≥ threshold ⇔ b ≥ threshold − a or b ≤ −threshold − a (disjoint, as threshold > 0).
    const half = m >> 1;
    const left = signedSums(ds.slice(0, half));
    const right = signedSums(ds.slice(half)).sort();
    for (let i = 0; i < left.length; i++) {
      const a = left[i];
      hits += right.length - firstAtLeast(right, threshold - a) + firstAbove(right, -threshold - a);
    }
    return hits / 2 ** m;
  }
  // Monte Carlo: each draw of the generator supplies 32 sign bits, bit i flips d_i.
  // mulberry32(hash32(`signflip|${seed}`)) inlined: its 32-bit outputs are the sign bits.
  let a = hash32(`signflip|${opts.seed}`) >>> 0;
  const d = Float64Array.from(ds);
  for (let b = 0; b < draws; b++) {
    let s = 0;
    let bits = 0;
    for (let i = 0; i < m; i++) {
      if ((i & 31) === 0) {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = imul(a ^ (a >>> 15), a | 1);
        t ^= t + imul(t ^ (t >>> 7), t | 61);
        bits = (t ^ (t >>> 14)) >>> 0;
      }
      s += bits & 1 ? -d[i]! : d[i]!;
      bits >>>= 1;
    }
    if (abs(s) >= threshold) hits++;
  }
  return (1 + hits) / (draws + 1);
}

/** The first index of an ascending array whose value is ≥ x (its length if none). */
function firstAtLeast(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] >= x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The first index of an ascending array whose value is > x (its length if none). */
function firstAbove(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Exact binomial tests
// ---------------------------------------------------------------------------------------------

function isCount(x: number): boolean {
  return Number.isInteger(x) && x >= 0;
}

/** x·2^e by exact power-of-two steps (no intermediate overflow or underflow). */
function timesPowerOfTwo(x: number, e: number): number {
  let r = x;
  let left = e;
  while (left !== 0 && r !== 0 && Number.isFinite(r)) {
    const step = Math.max(-1000, Math.min(1000, left));
    r *= 2 ** step;
    left -= step;
  }
  return r;
}

/**
 * The binomial CDF P(X ≤ k) for X ~ Bin(n, p): the pmf ratios C(n, i+1)/C(n, i)·p/(1 − p) summed as an
 * incremental product with exact power-of-two rescaling, then multiplied by (1 − p)^n (exactly 2^−n when
 * p = ½, so small cases are exact); no overflow for n in the tens of thousands, relative error about 1e-13.
 */
export function binomialCdf(k: number, n: number, p: number): number {
  if (!isCount(n)) throw new RangeError(`binomialCdf: n must be a non-negative integer, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomialCdf: p must be in [0, 1], got ${p}`);
  if (Number.isNaN(k)) throw new RangeError('binomialCdf: k is NaN');
  const kk = Math.floor(k);
  if (kk < 0) return 0;
  if (kk >= n) return 1;
  if (p === 0) return 1;
  if (p === 1) return 0;
  const ratio = p / (1 - p);
  const half = p === 0.5;
  const big = 2 ** 500;
  let term = 1; // C(n, i)·ratio^i / 2^scale
  let sum = 1;
  let scale = 0;
  for (let i = 0; i < kk; i++) {
    term = half ? (term * (n - i)) / (i + 1) : ((term * (n - i)) / (i + 1)) * ratio;
    sum += term;
    if (sum > big) {
      term /= big;
      sum /= big;
      scale += 500;
    }
  }
  const cdf = half ? timesPowerOfTwo(sum, scale - n) : Math.exp(Math.log(sum) + scale * Math.LN2 + n * Math.log1p(-p));
  return Math.min(1, cdf);
}

/** The two-sided exact binomial test of equal split: min(1, 2·P(X ≤ min(a, b))) with X ~ Bin(a + b, ½); 1 when a + b = 0. */
function twoSidedHalfBinomial(a: number, b: number): number {
  const n = a + b;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialCdf(Math.min(a, b), n, 0.5));
}

/**
 * The exact two-sided sign test of prefix wins against losses (ties dropped beforehand):
 * min(1, 2·P(X ≤ min(wins, losses))) with X ~ Bin(wins + losses, ½); 1 with no wins or losses, null for
 * counts that are not non-negative integers.
 */
export function signTestPValue(wins: number, losses: number): number | null {
  if (!isCount(wins) || !isCount(losses)) return null;
  return twoSidedHalfBinomial(wins, losses);
}

/**
 * The exact McNemar test on discordant prefixes (b: only the normal condition had any success, c: only the
 * intervention did), the sign-test formula on (b, c); 1 when b + c = 0; throws for invalid counts.
 */
export function mcnemarExactPValue(b: number, c: number): number {
  if (!isCount(b) || !isCount(c)) throw new RangeError(`mcnemarExactPValue: counts must be non-negative integers, got ${b}, ${c}`);
  return twoSidedHalfBinomial(b, c);
}

import { hash32, mulberry32 } from '../experiment/rng';

/** 32-bit FNV-1a hash of a string (the experiment core's). */
export const fnv1a = hash32;

/** Seeded PRNG (mulberry32) over the hash of the given parts; returns floats in [0, 1). */
export function rngFrom(...parts: Array<string | number | undefined>): () => number {
  return mulberry32(hash32(parts.map((p) => String(p ?? '')).join('\u0001')));
}

/** Integer in [lo, hi] drawn from `rand`. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

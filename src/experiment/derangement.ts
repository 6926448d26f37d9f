import { mulberry32, hash32, randomInt } from './rng';

/** Options of the swap: the seed and, optionally, the source of each prefix that must not be swapped with itself. */
export interface DerangementOptions {
  seed: number;
  /** One entry per prefix; two prefixes with the same defined source are never swapped into each other. */
  sourceIds?: (string | undefined)[];
}

/** Thrown when no derangement exists for the inputs. */
export class DerangementError extends Error {}

function violates(perm: number[], sourceIds?: (string | undefined)[]): boolean {
  for (let i = 0; i < perm.length; i++) {
    if (perm[i] === i) return true;
    if (sourceIds) {
      const a = sourceIds[i];
      if (a !== undefined && a === sourceIds[perm[i]!]) return true;
    }
  }
  return false;
}

/**
 * A uniformly drawn derangement of 0..n-1 (sigma(i) != i for all i): slot i receives the thought of prefix sigma(i).
 * Rejection sampling of uniform shuffles keeps every valid permutation equally likely (about e draws on average).
 */
export function seededDerangement(n: number, opts: DerangementOptions): number[] {
  if (!Number.isInteger(n) || n < 2) {
    throw new DerangementError(`a swap needs at least 2 prefixes, got ${n}`);
  }
  const sourceIds = opts.sourceIds;
  if (sourceIds) {
    if (sourceIds.length !== n) throw new DerangementError(`sourceIds has ${sourceIds.length} entries for ${n} prefixes`);
    const counts = new Map<string, number>();
    for (const s of sourceIds) if (s !== undefined) counts.set(s, (counts.get(s) ?? 0) + 1);
    for (const [s, c] of counts) {
      // Each of the c prefixes of one source must take a thought from the other n - c prefixes.
      if (c > n - c) throw new DerangementError(`source "${s}" has ${c} of ${n} prefixes: no swap avoids pairing it with itself`);
    }
  }
  const random = mulberry32(hash32(`derangement|${opts.seed}|${n}`));
  for (let attempt = 0; attempt < 100000; attempt++) {
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = randomInt(random, i + 1);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    if (!violates(perm, sourceIds)) return perm;
  }
  throw new DerangementError('no valid swap found after 100000 draws');
}

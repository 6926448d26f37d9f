import { hash32, mulberry32, randomInt } from './rng';

/** Shuffles an array in place with a seeded Fisher-Yates shuffle; the same seed gives the same order. */
export function shuffleInPlace<T>(items: T[], seed: number): T[] {
  const random = mulberry32(hash32(`shuffle|${seed}`));
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

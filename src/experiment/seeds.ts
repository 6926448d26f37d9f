import { hash32 } from './rng';

/** The stage of a model request, part of its deterministic seed. */
export type SeedStage = 'thought' | 'suffix' | 'judge' | 'paraphrase';

/**
 * The `seed` sent with a request: the same (run seed, arm, prefix, sample, stage, condition, attempt)
 * always asks the server for the same draw, so a rerun or a retry reproduces it where the server honours seeds.
 */
export function requestSeed(
  runSeed: number,
  arm: string,
  prefixId: string,
  sample: number,
  stage: SeedStage,
  condition = '',
  attempt = 0,
): number {
  // 31 bits: some servers reject seeds that do not fit a signed 32-bit integer.
  return hash32([runSeed, arm, prefixId, sample, stage, condition, attempt].join('|')) & 0x7fffffff;
}

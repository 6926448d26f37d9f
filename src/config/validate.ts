import { z } from 'zod';
import { shuffleInPlace } from '../experiment/shuffle';
import { ConfigError, formatIssues } from './errors';
import { RunConfigSchema, type DatasetRow, type RunConfig } from './schema';

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      s = (s as unknown as { unwrap(): z.ZodType }).unwrap();
    } else if (s instanceof z.ZodPipe) {
      s = (s as unknown as { in: z.ZodType }).in;
    } else return s;
  }
}

/** The keys allowed at a path of the run config, for "did you mean" hints. */
export function knownKeysAt(path: PropertyKey[]): string[] {
  let s = unwrap(RunConfigSchema);
  for (const p of path) {
    if (s instanceof z.ZodArray) s = unwrap(s.element as z.ZodType);
    if (typeof p === 'number') continue;
    if (!(s instanceof z.ZodObject)) return [];
    const next = (s.shape as Record<string, z.ZodType>)[String(p)];
    if (!next) return [];
    s = unwrap(next);
  }
  if (s instanceof z.ZodArray) s = unwrap(s.element as z.ZodType);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** Validates a run config, applying defaults; throws a ConfigError listing every problem. Pure: workflows use it too. */
export function parseRunConfig(input: unknown, source = 'config'): RunConfig {
  const result = RunConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues, knownKeysAt));
  return result.data;
}

/** The rows a run uses: inline rows, shuffled with the run seed when asked, then cut to the limit. */
export function selectRows(config: RunConfig): DatasetRow[] {
  const rows = [...(config.dataset.rows ?? [])];
  if (config.dataset.shuffle) shuffleInPlace(rows, config.seed);
  return rows.slice(0, config.dataset.limit);
}

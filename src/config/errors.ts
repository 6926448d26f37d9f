import type { z } from 'zod';

function closest(word: string, options: string[]): string | undefined {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const dd = dist(word.toLowerCase(), o.toLowerCase());
    if (dd < bestD) [best, bestD] = [o, dd];
  }
  return best;
}

function pathString(path: PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '') || '(root)';
}

/** Known keys per object, for "did you mean" hints on unknown keys. */
export type KnownKeys = (path: PropertyKey[]) => string[];

/** Turns zod issues into `path.to.field: what is wrong` lines, one per problem. */
export function formatIssues(issues: z.core.$ZodIssue[], knownKeys?: KnownKeys): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    // A union whose input matched one option's shape (its problems lie inside the value): that option's problems.
    if (issue.code === 'invalid_union') {
      const deep = issue.errors.find((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
      if (deep) {
        lines.push(...formatIssues(deep.map((i) => ({ ...i, path: [...issue.path, ...i.path] })), knownKeys));
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint = knownKeys ? closest(key, knownKeys(issue.path)) : undefined;
        const extra = key === 'apiKey' ? ' (name the environment variable with apiKeyEnv instead)' : hint ? ` (did you mean "${hint}"?)` : '';
        lines.push(`${pathString([...issue.path, key])}: unknown key${extra}`);
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
    lines.push(`${pathString(issue.path)}: ${message}`);
  }
  return lines;
}

/** A config that failed validation, with every problem listed. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid config\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { resolveConfigFile } from '../config/load';
import { RunConfigSchema } from '../config/schema';

/** The JSON Schema of the run config, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(RunConfigSchema, { io: 'input', unrepresentable: 'any' });
}

/** `thought-probe config check FILE` (its arguments and options are in ./commands, which loads this module to run it). */
export function configCheck(file: string): void {
  const c = resolveConfigFile(file);
  process.stdout.write(`${file}: ok (${c.arms.length} arms, ${c.dataset.rows!.length} prefixes, ${c.samplesPerPrefix} samples, ${c.conditions.length} conditions)\n`);
}

/** `thought-probe config resolve FILE` (its arguments and options are in ./commands, which loads this module to run it). */
export async function configResolve(file: string, opts: { inline?: boolean } = {}): Promise<void> {
  const resolved = resolveConfigFile(file);
  // Rows go into the store once and the input carries their reference (`--inline` keeps them in the input).
  // Loaded here only: `config check` stays light (zod and yaml).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { referenceDataset } = require('../store/datasets') as typeof import('../store/datasets');
  const out = opts.inline ? resolved : await referenceDataset(resolved);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

/** `thought-probe config schema` (its arguments and options are in ./commands, which loads this module to run it). */
export function configSchema(opts: { out?: string }): void {
  const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  if (opts.out) writeFileSync(opts.out, text);
  else process.stdout.write(text);
}

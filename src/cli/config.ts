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
export function configResolve(file: string): void {
  process.stdout.write(`${JSON.stringify(resolveConfigFile(file), null, 2)}\n`);
}

/** `thought-probe config schema` (its arguments and options are in ./commands, which loads this module to run it). */
export function configSchema(opts: { out?: string }): void {
  const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  if (opts.out) writeFileSync(opts.out, text);
  else process.stdout.write(text);
}

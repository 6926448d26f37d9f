import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { resolveConfigFile } from '../config/load';
import { RunConfigSchema } from '../config/schema';

/** The JSON Schema of the run config, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(RunConfigSchema, { io: 'input', unrepresentable: 'any' });
}

/** Registers `thought-probe config check|resolve|schema`. */
export function register(program: Command): void {
  const config = program.command('config').description('check, resolve and describe run configs');
  config
    .command('check')
    .argument('<file>', 'run config (YAML or JSON)')
    .description('validate a config; exit 2 listing every problem as path.to.field: what is wrong')
    .action((file: string) => {
      const c = resolveConfigFile(file);
      process.stdout.write(`${file}: ok (${c.arms.length} arms, ${c.dataset.rows!.length} prefixes, ${c.samplesPerPrefix} samples, ${c.conditions.length} conditions)\n`);
    });
  config
    .command('resolve')
    .argument('<file>', 'run config (YAML or JSON)')
    .description('print the resolved config as JSON, dataset rows inline (input for temporal workflow start --input-file)')
    .action((file: string) => {
      process.stdout.write(`${JSON.stringify(resolveConfigFile(file), null, 2)}\n`);
    });
  config
    .command('schema')
    .description('print (or write) the JSON Schema of run configs')
    .option('--out <file>', 'write to this file instead of stdout')
    .action((opts: { out?: string }) => {
      const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
}

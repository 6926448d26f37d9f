// One plain run in a process of its own, as a researcher's script runs (bench/wide.ts spawns it per run, so a
// long bench's own heap never weighs on the script it compares against). Reads {config, simUrl, transport} from
// the JSON file named by its argument; prints one JSON line: the run's result and this process's CPU seconds over
// the run.
import { readFileSync } from 'node:fs';
import { runPlain, type PlainTransport } from './plain';
import type { RunConfig } from '../src/config/schema';

async function main() {
  const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { config: RunConfig; simUrl: string; transport: PlainTransport };
  const before = process.cpuUsage();
  const r = await runPlain(input);
  const used = process.cpuUsage(before);
  process.stdout.write(`${JSON.stringify({ ms: r.ms, errors: r.errors, summary: r.summary, cpuSeconds: (used.user + used.system) / 1e6 })}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);

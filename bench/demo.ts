// Times the demo's note-shaped run end to end (dev server, simulated endpoints and worker on this machine),
// several times, and reports the median beside the servers' own lower bound. Not part of the test suite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo';
import { resolveConfigFile } from '../src/config/load';
import { lowerBound, numArg, root } from './lib';



async function main(): Promise<void> {
  const runs = numArg('runs', 3);
  const latencyMs = numArg('latency-ms', 200);
  const config = join(root, 'examples/demo.yaml');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { ms, runId } = await runDemo({ config, latencyMs, quiet: true, print: false });
    times.push(ms / 1000);
    process.stderr.write(`run ${i + 1}/${runs} (${runId}): ${(ms / 1000).toFixed(1)} s\n`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const bound = lowerBound(resolveConfigFile(config), latencyMs).seconds;
  const out = { machine: `${cpus().length} cores`, latencyMs, runs: times, medianSeconds: median, lowerBoundSeconds: bound, ratio: median / bound };
  process.stdout.write(`| measurement | latency | runs (s) | median (s) | lower bound (s) | ratio |\n| --- | ---: | --- | ---: | ---: | ---: |\n`);
  process.stdout.write(`| demo, note shape (2,560 generation + 2,048 judge calls) | ${latencyMs} ms | ${times.map((t) => t.toFixed(1)).join(', ')} | ${median.toFixed(1)} | ${bound.toFixed(1)} | ${(median / bound).toFixed(2)} |\n`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/demo.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.exit(0);
}

void main();

// Times the demo's note-shaped run end to end (dev server, simulated endpoints and worker on this machine),
// several times, and reports the median beside the servers' own lower bound. Not part of the test suite.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo';
import { resolveConfigFile } from '../src/config/load';
import { planCounts } from '../src/experiment/plan';

const root = join(__dirname, '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The lower bound of a run's makespan: the busiest server's calls × latency ÷ its cap, plus one request before it can start. */
function lowerBoundSeconds(configFile: string, latencyMs: number): number {
  const c = resolveConfigFile(configFile);
  const plan = planCounts(c.dataset.rows!.length, c.samplesPerPrefix, c.conditions);
  const lat = latencyMs / 1000;
  const armBound = Math.max(...c.arms.map((a) => ((plan.thoughts + plan.suffixes) * lat) / a.maxConcurrency));
  const judgeBound = lat + (plan.judgments * c.arms.length * lat) / c.judge.maxConcurrency;
  return Math.max(armBound, judgeBound);
}

async function main(): Promise<void> {
  const runs = arg('runs', 3);
  const latencyMs = arg('latency-ms', 200);
  const config = join(root, 'examples/demo.yaml');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { ms, runId } = await runDemo({ config, latencyMs, quiet: true, print: false });
    times.push(ms / 1000);
    process.stderr.write(`run ${i + 1}/${runs} (${runId}): ${(ms / 1000).toFixed(1)} s\n`);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const bound = lowerBoundSeconds(config, latencyMs);
  const out = { machine: `${cpus().length} cores`, latencyMs, runs: times, medianSeconds: median, lowerBoundSeconds: bound, ratio: median / bound };
  process.stdout.write(`| measurement | latency | runs (s) | median (s) | lower bound (s) | ratio |\n| --- | ---: | --- | ---: | ---: | ---: |\n`);
  process.stdout.write(`| demo, note shape (2,560 generation + 2,048 judge calls) | ${latencyMs} ms | ${times.map((t) => t.toFixed(1)).join(', ')} | ${median.toFixed(1)} | ${bound.toFixed(1)} | ${(median / bound).toFixed(2)} |\n`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/demo.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.exit(0);
}

void main();

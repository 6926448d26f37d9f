// The note-shaped run with the judge down (connections dropped) for 60 s in the middle: it must complete
// with 2,048 valid judgments and arm request counts exactly equal to the plan. Prints a table, writes JSON.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDemo } from '../src/cli/demo';
import { resolveConfigFile } from '../src/config/load';
import { planCounts } from '../src/experiment/plan';
import { numArg, root } from './lib';



async function main(): Promise<void> {
  const latencyMs = numArg('latency-ms', 100);
  const downAtMs = numArg('down-at-ms', 5000);
  const downForMs = numArg('down-for-ms', 60000);
  const config = join(root, 'examples/demo.yaml');
  const c = resolveConfigFile(config);
  const plan = planCounts(c.dataset.rows!.length, c.samplesPerPrefix, c.conditions);
  const { result, ms, simStats, runId } = await runDemo({
    config,
    latencyMs,
    quiet: true,
    print: false,
    faults: [{ kind: 'down', model: c.judge.model, atMs: downAtMs, durationMs: downForMs }],
  });
  const records = readFileSync(result.artifacts.samples, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { judge: { valid: boolean }; arm: string; condition: string; prefixId: string; sample: number });
  const unique = new Set(records.map((r) => `${r.arm}/${r.condition}/${r.prefixId}/${r.sample}`)).size;
  const arms = c.arms.map((a) => ({ arm: a.name, requests: simStats.models[a.model]?.requests ?? 0, plan: plan.thoughts + plan.suffixes }));
  const judge = simStats.models[c.judge.model]!;
  const out = {
    runId, latencyMs, downAtMs, downForMs, makespanSeconds: ms / 1000,
    records: records.length, unique, valid: records.filter((r) => r.judge.valid).length,
    arms, judge: { requests: judge.requests, errors: judge.errors, plan: plan.judgments * c.arms.length },
  };
  process.stdout.write(`| run | judge down | makespan | records (unique) | valid judgments | arm requests / plan | judge requests / plan (failed) |\n| --- | --- | ---: | ---: | ---: | --- | --- |\n`);
  process.stdout.write(`| ${runId} | ${downForMs / 1000} s from t=${downAtMs / 1000} s | ${(ms / 1000).toFixed(1)} s | ${records.length} (${unique}) | ${out.valid} | ${arms.map((a) => `${a.requests}/${a.plan}`).join(', ')} | ${judge.requests}/${out.judge.plan} (${judge.errors}) |\n`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/outage.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.exit(0);
}

void main();

/**
 * A 3,000-prefix run through `temporal workflow start --input-file`: `config resolve` puts the rows into the store
 * and the input carries their reference, so it stays far under Temporal's 256 KB warning (inline, the rows alone
 * are over a megabyte). Counted: every planned request made once, one record per sample.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetRow } from '../../src/config/schema';
import { planCounts } from '../../src/experiment/plan';
import { startSimServer, type SimServer } from '../../src/sim';
import type { ProbeRunResult } from '../../src/workflows/api';
import { tempDir } from '../helpers/configs';
import { jsonl, runCli, runCommand, show, writeConfig } from '../helpers/e2e-cli';
import { bundle, startTemporal, temporalBinary, withWorkers } from '../helpers/temporal';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';

const PREFIXES = 3000;
const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `w${(seed * 7919 + i * 104729) % 5000}`).join(' ');
const rows: DatasetRow[] = Array.from({ length: PREFIXES }, (_, i) => ({
  id: `big-${String(i).padStart(4, '0')}`,
  prefix: `Document ${i}: ${words(40, i)}`,
  suffix: words(12, i + 1),
}));

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;
let sim: SimServer;

beforeAll(async () => {
  [env, workflowBundle, sim] = await Promise.all([startTemporal(), bundle(), startSimServer({ port: 0, rows, latencyMs: 0 })]);
}, 300_000);

afterAll(async () => {
  await sim?.close();
  await env?.teardown();
}, 60_000);

test('3,000 prefixes: the input is a reference under 256 KB and the run completes with records equal to the plan', async () => {
  const dir = tempDir();
  const data = join(dir, 'rows.jsonl');
  writeFileSync(data, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  expect(statSync(data).size).toBeGreaterThan(1024 * 1024);
  const config = writeConfig(dir, {
    name: 'big',
    dataset: { path: data, limit: PREFIXES },
    samplesPerPrefix: 1,
    conditions: ['normal_model_thought', 'blank_thought'],
    arms: [{ name: 'think_base', baseURL: sim.url, model: 'think_base', maxConcurrency: 16 }],
    judge: { baseURL: sim.url, model: 'qwen-judge', maxConcurrency: 32 },
    output: { dir: join(dir, 'out') },
  });
  const resolved = await runCli(['config', 'resolve', config]);
  expect({ status: resolved.status, out: show(resolved) }).toMatchObject({ status: 0 });
  const input = join(dir, 'run.json');
  writeFileSync(input, resolved.stdout);
  expect(statSync(input).size).toBeLessThan(256 * 1024);

  const result = await withWorkers(env, workflowBundle, async () => {
    const started = await runCommand(temporalBinary(), [
      'workflow', 'start', '--address', env.address, '--namespace', 'default', '--type', 'probeRun',
      '--task-queue', 'thought-probe', '--workflow-id', 'big-1', '--input-file', input,
    ]);
    expect({ status: started.status, out: show(started) }).toMatchObject({ status: 0 });
    return (await env.client.workflow.getHandle('big-1').result()) as ProbeRunResult;
  });
  const plan = planCounts(PREFIXES, 1, ['normal_model_thought', 'blank_thought']);
  const stats = sim.stats();
  expect(stats.models.think_base!.requests).toBe(plan.thoughts + plan.suffixes);
  expect(stats.models['qwen-judge']!.requests).toBe(plan.judgments);
  const records = jsonl<{ prefixId: string; condition: string; reward: number | null }>(readFileSync(result.artifacts.samples, 'utf8'));
  expect(records).toHaveLength(plan.judgments);
  expect(new Set(records.map((r) => `${r.condition}/${r.prefixId}`)).size).toBe(plan.judgments);
  expect(new Set(records.map((r) => r.prefixId))).toEqual(new Set(rows.map((r) => r.id)));
  expect(result.summary.scale.prefixes).toBe(PREFIXES);
}, 600_000);

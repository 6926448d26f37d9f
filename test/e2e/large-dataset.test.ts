/**
 * Issue 23 ("research scale"): a 3,200-prefix run started through `temporal workflow start --input-file` and executed
 * by a real `thought-probe worker` CHILD PROCESS (the built CLI, a 1 MB main-thread stack: where the old per-prefix
 * heatmap overflowed vega's parser in writeArtifacts; a worker inside jest renders charts in a worker thread and did
 * not). `config resolve` puts the rows into the store and the input carries their reference, so it stays far under
 * Temporal's 256 KB warning. Counted: every planned request made once; one record per planned sample; every artifact
 * written; the binned heatmap and no chart left out; `thought-probe export` gives the same bytes; `thought-probe view`
 * pages through the same records in samples.jsonl's order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DatasetRow } from '../../src/config/schema';
import { planCounts } from '../../src/experiment/plan';
import type { SampleRecord } from '../../src/experiment/records';
import type { Summary } from '../../src/experiment/summary';
import { startSimServer, type SimServer } from '../../src/sim';
import type { ProbeRunResult } from '../../src/workflows/api';
import { tempDir } from '../helpers/configs';
import { CLI, cliEnv, jsonl, ROOT, runCli, runCommand, show, startWorkerProcess, writeConfig, type WorkerProcess } from '../helpers/e2e-cli';
import { startTemporal, temporalBinary } from '../helpers/temporal';

const PREFIXES = 3200;
const CONDITIONS = ['normal_model_thought', 'blank_thought'] as const;
const ARM = 'think_base';
const RUN_ID = 'big-1';
const ARTIFACTS = ['samples.jsonl', 'summary.json', 'report.md', 'report.html', 'config.json', 'swap.json'] as const;

const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `w${(seed * 7919 + i * 104729) % 5000}`).join(' ');
const rows: DatasetRow[] = Array.from({ length: PREFIXES }, (_, i) => ({
  id: `big-${String(i).padStart(4, '0')}`,
  prefix: `Document ${i}: ${words(40, i)}`,
  suffix: words(12, i + 1),
}));

let env: TestWorkflowEnvironment;
let sim: SimServer;
let worker: WorkerProcess | undefined;
let view: ChildProcess | undefined;
let dir: string;
let runDir: string;
let records: SampleRecord[];

const sampleId = (r: { arm: string; condition: string; prefixId: string; sample: number }) => `${r.arm}|${r.condition}|${r.prefixId}|${r.sample}`;

beforeAll(async () => {
  dir = tempDir('tp-large-');
  [env, sim] = await Promise.all([startTemporal(), startSimServer({ port: 0, rows, latencyMs: 0 })]);
  // The built CLI's worker, polling every task queue of the project on the test's server.
  worker = await startWorkerProcess(env.address);
}, 300_000);

afterAll(async () => {
  if (view && view.exitCode === null && view.signalCode === null) {
    const exited = new Promise<void>((r) => view!.once('exit', () => r()));
    view.kill('SIGTERM');
    const hard = setTimeout(() => view!.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(hard);
  }
  await worker?.stop();
  await sim?.close();
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('3,200 prefixes through temporal workflow start and a worker process: requests equal the plan, one record per sample, every artifact', async () => {
  const data = join(dir, 'rows.jsonl');
  writeFileSync(data, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  expect(statSync(data).size).toBeGreaterThan(1024 * 1024);
  const outDir = join(dir, 'out');
  const config = writeConfig(dir, {
    name: 'big',
    dataset: { path: data, limit: PREFIXES },
    samplesPerPrefix: 1,
    conditions: [...CONDITIONS],
    arms: [{ name: ARM, baseURL: sim.url, model: ARM, maxConcurrency: 16 }],
    judge: { baseURL: sim.url, model: 'qwen-judge', maxConcurrency: 32 },
    output: { dir: outDir },
  });
  const resolved = await runCli(['config', 'resolve', config]);
  expect({ status: resolved.status, out: show(resolved) }).toMatchObject({ status: 0 });
  const input = join(dir, 'run.json');
  writeFileSync(input, resolved.stdout);
  expect(statSync(input).size).toBeLessThan(256 * 1024);
  sim.resetStats();

  const started = await runCommand(temporalBinary(), [
    'workflow', 'start', '--address', env.address, '--namespace', 'default', '--type', 'probeRun',
    '--task-queue', 'thought-probe', '--workflow-id', RUN_ID, '--input-file', input,
  ]);
  expect({ status: started.status, out: show(started) }).toMatchObject({ status: 0 });
  let result: ProbeRunResult;
  try {
    result = (await env.client.workflow.getHandle(RUN_ID).result()) as ProbeRunResult;
  } catch (e) {
    throw new Error(`the run failed: ${String(e)}\n--- worker output (tail)\n${worker!.output().slice(-6000)}`);
  }
  // The worker process did the work and is still there.
  expect(worker!.child.exitCode).toBeNull();
  const described = await env.client.workflow.getHandle(RUN_ID).describe();
  expect(described.status.name).toBe('COMPLETED');

  // Every planned request exactly once, and none failed.
  const plan = planCounts(PREFIXES, 1, CONDITIONS);
  expect(plan.judgments).toBe(PREFIXES * CONDITIONS.length);
  const stats = sim.stats();
  expect({ requests: stats.models[ARM]?.requests, errors: stats.models[ARM]?.errors }).toEqual({ requests: plan.thoughts + plan.suffixes, errors: 0 });
  expect({ requests: stats.models['qwen-judge']?.requests, errors: stats.models['qwen-judge']?.errors }).toEqual({ requests: plan.judgments, errors: 0 });
  expect(stats.totalRequests).toBe(plan.thoughts + plan.suffixes + plan.judgments);

  // Every artifact, where the run says, and not empty.
  runDir = join(outDir, RUN_ID);
  const paths = result.artifacts;
  expect([paths.samples, paths.summary, paths.report, paths.html, paths.config, paths.swap]).toEqual(ARTIFACTS.map((f) => join(runDir, f)));
  for (const f of ARTIFACTS) expect({ f, size: statSync(join(runDir, f)).size > 0 }).toEqual({ f, size: true });

  // One record per planned sample: exactly the set arm × condition × prefix × sample, each once.
  records = jsonl<SampleRecord>(readFileSync(paths.samples, 'utf8'));
  expect(records).toHaveLength(plan.judgments);
  const expected = CONDITIONS.flatMap((condition) => rows.map((r) => sampleId({ arm: ARM, condition, prefixId: r.id, sample: 0 })));
  expect(new Set(records.map(sampleId)).size).toBe(records.length);
  expect(new Set(records.map(sampleId))).toEqual(new Set(expected));
  // samples.jsonl's order: condition by condition, prefix by prefix.
  expect(records.map(sampleId)).toEqual(expected);
  expect(records.filter((r) => r.error !== null).map(sampleId)).toEqual([]);
  expect(records.every((r) => r.simulated === true && r.runId === RUN_ID)).toBe(true);

  const summary = JSON.parse(readFileSync(paths.summary, 'utf8')) as Summary;
  expect(summary.scale.prefixes).toBe(PREFIXES);
  expect(result.summary.scale).toEqual(summary.scale);
  expect(summary.scale.judgedSuffixes).toBe(plan.judgments);
  expect(summary.arms[ARM]!.conditions.normal_model_thought!.n).toBe(PREFIXES);
  expect(summary.arms[ARM]!.sensitivity.blank_thought!.prefixes).toBeGreaterThan(0);

  // The heatmap is binned (3,200 prefixes > 200), every chart was drawn, none left out.
  const html = readFileSync(paths.html, 'utf8');
  expect(html).toContain('id="heatmaps-binned"');
  expect(html).not.toContain('data-chart-left-out');
  expect(html).not.toContain('class="muted left-out"');
  expect((html.match(/<figure class="chart" data-chart="heatmap" data-arm="think_base"><svg/g) ?? []).length).toBe(1);
  for (const chart of ['reward', 'sensitivity']) expect((html.match(new RegExp(`<figure class="chart" data-chart="${chart}"><svg`, 'g')) ?? []).length).toBe(1);
}, 600_000);

test('thought-probe export writes the same artifacts from the store', async () => {
  expect(records).toBeDefined();
  const exported = join(dir, 'export');
  const ex = await runCli(['export', RUN_ID, '--out', exported], { address: env.address, timeoutMs: 120_000 });
  expect({ status: ex.status, out: show(ex) }).toMatchObject({ status: 0 });
  for (const f of ARTIFACTS) expect({ f, size: statSync(join(exported, f)).size > 0 }).toEqual({ f, size: true });
  for (const f of ['samples.jsonl', 'summary.json', 'report.md', 'swap.json', 'report.html']) {
    const same = readFileSync(join(exported, f)).equals(readFileSync(join(runDir, f)));
    expect({ f, same }).toEqual({ f, same: true });
  }
}, 180_000);

test('status, result, power --run and compare answer for the run, with its numbers', async () => {
  expect(records).toBeDefined();
  const address = env.address;
  const status = await runCli(['status', RUN_ID, '--json'], { address, timeoutMs: 120_000 });
  expect({ status: status.status, out: show(status) }).toMatchObject({ status: 0 });
  expect(JSON.parse(status.stdout)).toMatchObject({ status: 'COMPLETED' });
  const result = await runCli(['result', RUN_ID], { address, timeoutMs: 120_000 });
  expect({ status: result.status, out: show(result) }).toMatchObject({ status: 0 });
  expect(result.stdout).toContain(`Prefixes: ${PREFIXES}`);
  // power --run reads the run's store; the prefixes it pairs are those with a valid reward under both conditions.
  const power = await runCli(['power', '--run', RUN_ID, '--json'], { address, timeoutMs: 120_000 });
  expect({ status: power.status, out: show(power) }).toMatchObject({ status: 0 });
  const validUnder = (c: string) => new Set(records.filter((r) => r.condition === c && r.reward !== null).map((r) => r.prefixId));
  const normal = validUnder('normal_model_thought');
  const paired = [...validUnder('blank_thought')].filter((p) => normal.has(p)).length;
  expect(JSON.parse(power.stdout)[ARM].blank_thought.prefixes).toBe(paired);
  // A run compared with itself differs by nothing, over every prefix it has.
  const compare = await runCli(['compare', runDir, runDir, '--out', join(dir, 'compare')], { timeoutMs: 120_000 });
  expect({ status: compare.status, out: show(compare) }).toMatchObject({ status: 0 });
  const cmp = JSON.parse(readFileSync(join(dir, 'compare', 'compare.json'), 'utf8')) as { comparisons: { conditions: { condition: string; diff: number; sharedPrefixes: number }[] }[] };
  expect(cmp.comparisons[0]!.conditions.map((c) => [c.condition, c.diff, c.sharedPrefixes])).toEqual([
    ['normal_model_thought', 0, normal.size],
    ['blank_thought', 0, validUnder('blank_thought').size],
  ]);
}, 300_000);

test('thought-probe view pages through every sample of the run in samples.jsonl order', async () => {
  expect(records).toBeDefined();
  view = spawn(process.execPath, [CLI, 'view', RUN_ID, '--port', '0'], { cwd: ROOT, env: cliEnv(env.address), stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  view.stderr!.setEncoding('utf8').on('data', (d: string) => (said += d));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`view did not start:\n${said}`)), 60_000);
    view!.stdout!.setEncoding('utf8').on('data', (d: string) => {
      said += d;
      const m = /thought-probe view \(read-only\) at (http:\/\/127\.0\.0\.1:\d+)\//.exec(said);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    view!.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`view exited (${code}):\n${said}`));
    });
  });
  const page = async (n: number) => {
    const res = await fetch(`${base}/api/runs/${encodeURIComponent(RUN_ID)}/samples?pageSize=1000&page=${n}`);
    const text = await res.text();
    expect({ page: n, status: res.status, text: res.status === 200 ? '' : text }).toEqual({ page: n, status: 200, text: '' });
    return JSON.parse(text) as { matching: number; pages: number; page: number; samples: SampleRecord[] };
  };
  const first = await page(1);
  expect(first.matching).toBe(records.length);
  expect(first.pages).toBe(Math.ceil(records.length / 1000));
  const got = [...first.samples];
  for (let n = 2; n <= first.pages; n++) {
    const p = await page(n);
    expect({ page: p.page, matching: p.matching }).toEqual({ page: n, matching: records.length });
    got.push(...p.samples);
  }
  const brief = (r: SampleRecord) => ({ arm: r.arm, prefixId: r.prefixId, condition: r.condition, sample: r.sample, reward: r.reward });
  expect(got.length).toBe(records.length);
  expect(got.map(brief)).toEqual(records.map(brief));
  // A page past the last is refused, naming the last page.
  const past = await fetch(`${base}/api/runs/${encodeURIComponent(RUN_ID)}/samples?pageSize=1000&page=${first.pages + 1}`);
  expect(past.status).toBe(400);
}, 180_000);

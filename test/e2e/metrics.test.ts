/**
 * `thought-probe worker --metrics-port`, as an operator runs it: a worker process against a real dev server and a
 * simulated server that injects 503s, 429s and invalid judge answers. The test scrapes /metrics while the run goes
 * and after it, and checks every count against what the simulated server saw and what the run stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { planCounts } from '../../src/experiment/plan';
import { startSimServer, type SimServer } from '../../src/sim';
import { probeRun } from '../../src/workflows';
import { heldoutRows, simConfig } from '../helpers/configs';
import { CLI, cliEnv } from '../helpers/e2e-cli';
import { startTemporal } from '../helpers/temporal';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let env: TestWorkflowEnvironment;
let sim: SimServer;
let worker: ChildProcess | undefined;
let workerOut = '';

beforeAll(async () => {
  [env, sim] = await Promise.all([
    startTemporal(),
    startSimServer({
      port: 0,
      rows: heldoutRows(),
      latencyMs: 60,
      faults: [
        { model: 'think_base', kind: '503', afterRequests: 3, count: 3 },
        { model: 'qwen-judge', kind: '429', afterRequests: 4, count: 2, retryAfterSeconds: 1 },
        { model: 'qwen-judge', kind: 'invalid', afterRequests: 8, count: 4 },
      ],
    }),
  ]);
}, 300_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
  await sim?.close();
  await env?.teardown();
}, 60_000);

/** One sample of a Prometheus text: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (s: Sample[], name: string, where: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(where).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);

async function scrape(url: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, samples: parse(text) };
}

test('the worker serves the SDK runtime metrics and per-endpoint request counts that match the simulated server', async () => {
  worker = spawn(process.execPath, [CLI, 'worker', '--metrics-port', '0', '--metrics-host', '127.0.0.1'], { env: cliEnv(env.address), stdio: ['ignore', 'pipe', 'pipe'] });
  worker.stdout!.setEncoding('utf8').on('data', (d: string) => (workerOut += d));
  worker.stderr!.setEncoding('utf8').on('data', (d: string) => (workerOut += d));
  for (let i = 0; i < 1200 && !/worker polling/.test(workerOut); i++) await sleep(100);
  const url = /metrics on http:\/\/[^:]+:(\d+)\/metrics/.exec(workerOut);
  expect(url).not.toBeNull();
  const metricsUrl = `http://127.0.0.1:${url![1]}/metrics`;

  const config = simConfig(sim.url, {
    conditions: ['normal_model_thought', 'blank_thought', 'generic_thought'],
    arms: [{ name: 'think_base', baseURL: sim.url, model: 'think_base', maxConcurrency: 3 }],
    judge: { baseURL: sim.url, model: 'qwen-judge', maxConcurrency: 4 },
  });
  const plan = planCounts(4, 2, config.conditions);
  const handle = await env.client.workflow.start(probeRun, { args: [config], workflowId: 'metrics-1', taskQueue: 'thought-probe' });
  // While it runs: requests in flight never exceed the cap the same scrape shows.
  let peakArm = 0;
  let peakJudge = 0;
  let scrapes = 0;
  const done = handle.result();
  let finished = false;
  void done.finally(() => (finished = true)).catch(() => undefined);
  while (!finished) {
    const { samples } = await scrape(metricsUrl);
    scrapes++;
    const arm = sum(samples, 'thought_probe_requests_in_flight', { model: 'think_base' });
    const judge = sum(samples, 'thought_probe_requests_in_flight', { model: 'qwen-judge' });
    if (sum(samples, 'thought_probe_request_cap', { model: 'think_base' })) expect(arm).toBeLessThanOrEqual(3);
    if (sum(samples, 'thought_probe_request_cap', { model: 'qwen-judge' })) expect(judge).toBeLessThanOrEqual(4);
    peakArm = Math.max(peakArm, arm);
    peakJudge = Math.max(peakJudge, judge);
    await sleep(50);
  }
  const result = await done;
  expect(scrapes).toBeGreaterThan(3);
  expect(peakArm).toBeGreaterThan(0);
  expect(peakJudge).toBeGreaterThan(0);

  const { text, samples } = await scrape(metricsUrl);
  const stats = sim.stats().models;
  const arm = { model: 'think_base' };
  const judge = { model: 'qwen-judge' };
  // Every request the simulated server saw is counted once, by outcome.
  expect(sum(samples, 'thought_probe_requests_total', arm)).toBe(stats.think_base!.requests);
  expect(sum(samples, 'thought_probe_requests_total', { ...arm, outcome: 'ok' })).toBe(stats.think_base!.completed);
  expect(sum(samples, 'thought_probe_requests_total', { ...arm, outcome: 'retryable' })).toBe(3);
  expect(stats.think_base!.requests).toBe(plan.thoughts + plan.suffixes + 3);
  expect(sum(samples, 'thought_probe_requests_total', judge)).toBe(stats['qwen-judge']!.requests);
  expect(sum(samples, 'thought_probe_requests_total', { ...judge, outcome: 'rate_limited' })).toBe(2);
  expect(sum(samples, 'thought_probe_requests_total', { ...judge, outcome: 'invalid_judgment' })).toBe(4);
  // Which samples meet the 4 invalid answers depends on timing: one whose retry is invalid too ends invalid.
  const records = readFileSync(result.artifacts.samples, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { judge: { attempts: number; valid: boolean } });
  const invalid = records.filter((r) => !r.judge.valid).length;
  expect(invalid).toBeLessThanOrEqual(2);
  expect(sum(samples, 'thought_probe_requests_total', { ...judge, outcome: 'ok' })).toBe(plan.judgments - invalid);
  expect(stats['qwen-judge']!.requests).toBe(plan.judgments - invalid + 2 + 4);
  expect(sum(samples, 'thought_probe_requests_total', { outcome: 'fatal' })).toBe(0);
  // The records agree: every judge call that was answered is an attempt of a record.
  expect(records.reduce((a, r) => a + r.judge.attempts, 0)).toBe(plan.judgments - invalid + 4);
  // The latency histogram has one observation per request; the caps are the config's.
  expect(sum(samples, 'thought_probe_request_duration_seconds_count', arm)).toBe(stats.think_base!.requests);
  expect(sum(samples, 'thought_probe_request_duration_seconds_count', judge)).toBe(stats['qwen-judge']!.requests);
  expect(sum(samples, 'thought_probe_request_cap', arm)).toBe(3);
  expect(sum(samples, 'thought_probe_request_cap', judge)).toBe(4);
  expect(sum(samples, 'thought_probe_requests_in_flight')).toBe(0);
  // Stored results by kind, as planned.
  expect(sum(samples, 'thought_probe_stored_results_total', { arm: 'think_base', kind: 'thoughts' })).toBe(plan.thoughts);
  expect(sum(samples, 'thought_probe_stored_results_total', { arm: 'think_base', kind: 'suffixes' })).toBe(plan.suffixes);
  expect(sum(samples, 'thought_probe_stored_results_total', { arm: 'think_base', kind: 'records' })).toBe(plan.judgments);
  // The SDK runtime's own metrics are there too: activity and workflow-task schedule-to-start latency, polls.
  expect(text).toMatch(/^temporal_activity_schedule_to_start_latency\w*\{/m);
  expect(text).toMatch(/^temporal_workflow_task_schedule_to_start_latency\w*\{/m);
  expect(text).toMatch(/^temporal_activity_execution_latency\w*\{/m);
  expect(text).not.toMatch(/runtime metrics unavailable/);
}, 300_000);

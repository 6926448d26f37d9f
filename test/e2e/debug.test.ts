/**
 * `thought-probe debug`, `history` and `replay` as child processes against a real dev server and the simulated
 * server: a run failed by a wrong judge model, and an arm stuck on nondeterministic workflow code; and what
 * `thought-probe run` and `result` print when a run fails.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { startSimServer, type SimServer } from '../../src/sim';
import { createWorkers } from '../../src/workers/worker';
import { armWorkflowId } from '../../src/workflows/api';
import { bundle, startTemporal, temporalBinary } from '../helpers/temporal';
import { heldoutRows, simConfig, tempDir } from '../helpers/configs';
import { runCli, runCommand, show, smokeInput, writeConfig } from '../helpers/e2e-cli';

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;
let sim: SimServer;
let workers: Worker[] = [];
let running: Promise<void>[] = [];
let dir: string;

async function startWorkers(): Promise<void> {
  workers = await createWorkers({ connection: env.nativeConnection, workflowBundle });
  running = workers.map((w) => w.run());
}

async function stopWorkers(): Promise<void> {
  workers.forEach((w) => w.shutdown());
  await Promise.all(running);
  workers = [];
  running = [];
}

beforeAll(async () => {
  dir = tempDir('tp-e2e-debug-');
  [env, workflowBundle, sim] = await Promise.all([startTemporal(), bundle(), startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 10 })]);
  await startWorkers();
}, 300_000);

afterAll(async () => {
  await stopWorkers();
  await sim?.close();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('a run failed by a wrong judge model: debug names the endpoint, the model, the 404 and the resume command; its histories replay', async () => {
  const runId = 'wrong-judge';
  const config = simConfig(sim.url, { judge: { baseURL: sim.url, model: 'qwen-jugde', maxConcurrency: 4 }, output: { dir } });
  const t0 = Date.now();
  await expect(env.client.workflow.execute('probeRun', { args: [config], workflowId: runId, taskQueue: 'thought-probe' })).rejects.toThrow();
  // A 404 is fatal: no retry waits.
  expect(Date.now() - t0).toBeLessThan(30_000);

  const debug = await runCli(['debug', runId], { address: env.address });
  expect({ status: debug.status, out: show(debug) }).toMatchObject({ status: 0 });
  const out = debug.stdout;
  expect(out).toContain(`run ${runId} (probeRun): FAILED`);
  expect(out).toContain(`child ${armWorkflowId(runId, 'think_base')} (probeArm): FAILED`);
  expect(out).toContain('ArmFailed');
  expect(out).toContain('FatalEndpointError (non-retryable)');
  expect(out).toMatch(/think_base\/judge\/\S+ \(judge\), attempt 1, failed /);
  expect(out).toContain(sim.url);
  expect(out).toContain('model "qwen-jugde"');
  expect(out).toContain('404');
  expect(out).toContain(`failing endpoint: judge endpoint ${sim.url} model "qwen-jugde": 404`);
  expect(out).toContain('fix judge.model');
  expect(out).toContain(`thought-probe resume ${runId} --config FIXED.yaml`);

  // history --children --out DIR, then replay DIR/*.json.
  const hdir = join(dir, 'histories');
  const hist = await runCli(['history', runId, '--children', '--out', `${hdir}/`], { address: env.address });
  expect({ status: hist.status, out: show(hist) }).toMatchObject({ status: 0 });
  const files = readdirSync(hdir).sort();
  expect(files).toEqual([`${runId}.json`, `${runId}__arm__think_base.json`]);
  const replay = await runCli(['replay', ...files.map((f) => join(hdir, f))]);
  expect({ status: replay.status, out: show(replay) }).toMatchObject({ status: 0 });
  expect(replay.stdout.trim().split('\n')).toEqual([`OK ${runId}`, `OK ${armWorkflowId(runId, 'think_base')}`]);

  // What `temporal workflow show --output json` writes replays too, whatever the file is called.
  const shown: string[] = [];
  for (const id of [runId, armWorkflowId(runId, 'think_base')]) {
    const r = await runCommand(temporalBinary(), ['workflow', 'show', '--address', env.address, '--namespace', 'default', '--workflow-id', id, '--output', 'json']);
    expect({ status: r.status, out: show(r) }).toMatchObject({ status: 0 });
    const file = join(dir, `shown-${shown.length}.json`);
    writeFileSync(file, r.stdout);
    shown.push(file);
  }
  const replayShown = await runCli(['replay', ...shown]);
  expect({ status: replayShown.status, out: show(replayShown) }).toMatchObject({ status: 0 });
  expect(replayShown.stdout.trim().split('\n')).toEqual([`OK ${runId}`, `OK ${armWorkflowId(runId, 'think_base')}`]);

  // And straight from the server.
  const replayRun = await runCli(['replay', '--run', runId], { address: env.address });
  expect({ status: replayRun.status, out: show(replayRun) }).toMatchObject({ status: 0 });
  expect(replayRun.stdout).toContain(`OK ${armWorkflowId(runId, 'think_base')}`);
}, 180_000);

test('run and result of a run failed by a wrong judge model print its root cause (the 404, the endpoint, the fix) and the debug command, exit 1', async () => {
  const runId = 'wrong-judge-cli';
  const file = writeConfig(dir, smokeInput(sim.url, join(dir, 'cli-out'), { name: runId, judge: { baseURL: sim.url, model: 'qwen-jugde', maxConcurrency: 4 } }), 'wrong-judge.yaml');
  const run = await runCli(['run', file], { address: env.address });
  expect({ status: run.status, out: show(run) }).toMatchObject({ status: 1 });
  expect(run.stdout).toContain(`started run ${runId}`);
  for (const r of [run, await runCli(['result', runId], { address: env.address })]) {
    expect({ status: r.status, out: show(r) }).toMatchObject({ status: 1 });
    expect(r.stderr).toContain(`error: run ${runId} failed: FatalEndpointError: judge ${sim.url} model "qwen-jugde": 404`);
    expect(r.stderr).toContain('  fix judge.model: check the model name and baseURL');
    expect(r.stderr).toContain(`  what happened and what to do next: thought-probe debug ${runId}\n`);
    expect(r.stderr).not.toContain('Workflow execution failed');
  }
}, 120_000);

test('an arm stuck on changed workflow code and a judge that retries: debug shows the nondeterminism, the retrying activities and the reset advice', async () => {
  const runId = 'stuck-arm';
  const armId = armWorkflowId(runId, 'think_base');
  sim.setFaults([{ kind: '503', model: 'qwen-judge' }]);
  const config = simConfig(sim.url, { judge: { baseURL: sim.url, model: 'qwen-judge', maxConcurrency: 4, maxRetryIntervalSeconds: 1 }, output: { dir } });
  const handle = await env.client.workflow.start('probeRun', { args: [config], workflowId: runId, taskQueue: 'thought-probe' });
  const arm = env.client.workflow.getHandle(armId);
  let retrying = false;
  for (let i = 0; i < 150 && !retrying; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const d = await arm.describe().catch(() => undefined);
    retrying = (d?.raw.pendingActivities ?? []).some((p) => (p.attempt ?? 0) > 1 && p.lastFailure);
  }
  expect(retrying).toBe(true);

  // The workers are replaced by one with a reordered probeArm and no activities; a signal makes the arm replay.
  await stopWorkers();
  const variant = await bundleWorkflowCode({ workflowsPath: require.resolve('../replay/reordered-workflows'), logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never });
  const changed = await Worker.create({ connection: env.nativeConnection, taskQueue: 'thought-probe', workflowBundle: variant });
  const changedRun = changed.run();
  try {
    await arm.signal('judgeSlots', 4);
    let failed = false;
    for (let i = 0; i < 150 && !failed; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const h = await arm.fetchHistory();
      failed = (h.events ?? []).some((e) => e.workflowTaskFailedEventAttributes);
    }
    expect(failed).toBe(true);

    const debug = await runCli(['debug', runId], { address: env.address });
    expect({ status: debug.status, out: show(debug) }).toMatchObject({ status: 0 });
    const out = debug.stdout;
    expect(out).toContain(`run ${runId} (probeRun): RUNNING`);
    expect(out).toMatch(/workflow task failed at event \d+ \(\S+\): NON_DETERMINISTIC_ERROR/);
    expect(out).toMatch(/at event 13 ActivityTaskScheduled/);
    expect(out).toMatch(/expected \(recorded in history\): ScheduleActivityTask generate, activity id '\S+#1'/);
    // Judging ahead, the first task schedules generation and judge batches; reversed, the last of them comes first.
    expect(out).toMatch(/produced \(current code\): +ScheduleActivityTask, activity id '\S+#[2-9]'/);
    expect(out).toMatch(/pending activities \(\d+\):/);
    expect(out).toMatch(/think_base\/judge\/\S+ \(judge\) \w+, attempt \d+/);
    expect(out).toContain('503');
    expect(out).toContain(`thought-probe replay --run ${runId}`);
    expect(out).toContain(`curl ${sim.url}/models`);
    // The code diverges at event 13 (after the four patch markers and their search attributes), so the reset goes to the
    // workflow task completed just before it.
    const reset = /^\s*(temporal workflow reset .*)$/m.exec(out)?.[1];
    expect(reset).toBe(`temporal workflow reset --workflow-id ${armId} --event-id 4 --reason 'workflow code changed'`);

    // Following that advice lets the changed code take over: the new run of the arm has no failed task.
    const words = [...reset!.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    const before = (await arm.describe()).runId;
    const r = await runCommand(temporalBinary(), words.slice(1), { address: env.address });
    expect({ status: r.status, out: show(r) }).toMatchObject({ status: 0 });
    const after = env.client.workflow.getHandle(armId);
    let scheduledByNewCode = false;
    for (let i = 0; i < 100 && !scheduledByNewCode; i++) {
      await new Promise((res) => setTimeout(res, 200));
      const d = await after.describe();
      if (d.runId === before) continue;
      const events = (await after.fetchHistory()).events ?? [];
      const resetAt = events.findIndex((e) => e.workflowTaskFailedEventAttributes);
      scheduledByNewCode = events.slice(resetAt + 1).some((e) => e.activityTaskScheduledEventAttributes?.activityId?.endsWith('#2'));
      expect(events.slice(resetAt + 1).some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
    }
    expect(scheduledByNewCode).toBe(true);
  } finally {
    await handle.terminate('test over').catch(() => undefined);
    changed.shutdown();
    await changedRun;
    sim.setFaults([]);
  }
}, 180_000);

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type Worker, type WorkflowBundle } from '@temporalio/worker';
import { startSimServer, type SimServer } from '../../src/sim';
import { createWorkers, type ProbeWorkerOptions } from '../../src/workers/worker';
import { heldoutRows } from './configs';
import { workflowsPath } from '../../src/workers/worker';

const root = join(__dirname, '..', '..');

/** The temporal CLI that the project's script provides (built once from Go modules when missing). */
export function temporalBinary(): string {
  return execFileSync('bash', [join(root, 'infra/temporal/ensure-cli.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

let runtimeInstalled = false;

/** Starts a real Temporal dev server (in memory) for one test file. */
export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    // Worker state changes are noise in test output; warnings and errors still show.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalBinary() }, extraArgs: ['--log-level', 'error'] },
  });
}

/** The workflow bundle, made once per test file. */
export async function bundle(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never });
}

/** Runs `fn` while one in-process worker (all task queues of the project) polls the test server. */
export async function withWorkers<T>(env: TestWorkflowEnvironment, workflowBundle: WorkflowBundle, fn: () => Promise<T>, opts: Omit<ProbeWorkerOptions, 'connection' | 'workflowBundle'> = {}): Promise<T> {
  const workers: Worker[] = await createWorkers({ ...opts, connection: env.nativeConnection, workflowBundle });
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
  }
}

/** What `withServerAndSim` provides to a test file, once its beforeAll has run. */
export interface ServerAndSim {
  env: TestWorkflowEnvironment;
  workflowBundle: WorkflowBundle;
  sim: SimServer;
}

/** Starts a dev server, the workflow bundle and a simulated server for a test file (beforeAll), and stops them (afterAll). */
export function withServerAndSim(latencyMs = 20): ServerAndSim {
  const t = {} as ServerAndSim;
  beforeAll(async () => {
    [t.env, t.workflowBundle, t.sim] = await Promise.all([startTemporal(), bundle(), startSimServer({ port: 0, rows: heldoutRows(), latencyMs })]);
  }, 300_000);
  afterAll(async () => {
    await t.sim?.close();
    await t.env?.teardown();
  }, 60_000);
  return t;
}

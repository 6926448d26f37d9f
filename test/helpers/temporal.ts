import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type Worker, type WorkflowBundle } from '@temporalio/worker';
import { createWorkers, type ProbeWorkerOptions } from '../../src/workers/worker';
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

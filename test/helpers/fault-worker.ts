import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** A `thought-probe worker` running in its own process, so a test can SIGKILL it like a crashed machine. */
export interface WorkerProcess {
  pid: number;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Resolves once the worker printed that it polls its task queues. */
  ready: Promise<void>;
  /** Sends SIGKILL to its process group and resolves when it has exited. */
  kill(): Promise<void>;
  exited: boolean;
}

const live = new Set<WorkerProcess>();

/** Starts `node bin/thought-probe.js worker` against a Temporal server (its own process group). */
export function startWorkerProcess(address: string, namespace = 'default', readyTimeoutMs = 120_000): WorkerProcess {
  const child: ChildProcess = spawn(process.execPath, [join(root, 'bin', 'thought-probe.js'), 'worker'], {
    cwd: root,
    env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    live.delete(handle);
    resolve();
  }));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${child.pid} not ready after ${readyTimeoutMs} ms:\n${out}`)), readyTimeoutMs);
    const onData = (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('worker polling')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker ${child.pid} exited before it was ready:\n${out}`));
    });
  });
  // The rejection after a deliberate kill is expected; callers await `ready` themselves before that.
  ready.catch(() => undefined);
  const handle: WorkerProcess = {
    pid: child.pid!,
    output: () => out,
    ready,
    get exited() {
      return exited;
    },
    kill: async () => {
      if (!exited) {
        try {
          // The whole group: the worker and anything it may have started.
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
      await exit;
    },
  };
  live.add(handle);
  return handle;
}

/** Kills every worker process this file started that is still running (for afterAll). */
export async function killWorkerProcesses(): Promise<void> {
  await Promise.all([...live].map((w) => w.kill()));
}

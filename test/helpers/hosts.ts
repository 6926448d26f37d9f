// Worker "hosts" on one machine: each `thought-probe worker` runs in its own mount namespace with a private tmpfs over
// its temp directory and the run's output.dir, so no two workers (nor the test) share a disk. Nothing else is
// separated: they reach Temporal, PostgreSQL and the simulated servers over the loopback, as hosts reach them over a
// network. A host can be SIGKILLed like a lost machine; its tmpfs goes with it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, cliEnv } from './e2e-cli';

/** Whether this process may make mount namespaces (`unshare -m` needs root, CAP_SYS_ADMIN). */
export function canIsolateHosts(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Checks, as root, that `unshare -m` with a private tmpfs works here, and throws naming what failed otherwise (so a
 * machine that should isolate hosts but cannot fails loudly instead of skipping).
 */
export function checkUnshare(): void {
  const probe = mkdtempSync(join(tmpdir(), 'tp-unshare-probe-'));
  try {
    const out = execFileSync(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs "$1" && touch "$1/inside" && grep -c " $1 " /proc/self/mountinfo', 'sh', probe],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (Number(out.trim()) < 1) throw new Error(`no tmpfs at ${probe} inside the namespace: ${out}`);
    // The file written inside went to the namespace's tmpfs, not to the directory the test sees.
    if (execFileSync('ls', ['-A', probe], { encoding: 'utf8' }).trim() !== '') throw new Error(`a file written inside the namespace is visible outside (${probe})`);
  } catch (e) {
    throw new Error(`unshare -m with a private tmpfs does not work here although we are root (util-linux unshare and mount, CAP_SYS_ADMIN): ${(e as Error).message}`);
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** What a host runs: a worker with these task queues, an identity, and the directories it gets a private tmpfs over. */
export interface HostSpec {
  /** Also the worker's `--identity`, as histories show it. */
  identity: string;
  address: string;
  taskQueues: string[];
  /** Whether it polls the run queue (`thought-probe`) too; false adds `--no-run-queue`. */
  runQueue: boolean;
  /** Extra environment (the store's URL). */
  env: NodeJS.ProcessEnv;
  /** Directories covered by a fresh tmpfs inside its namespace, in this order (a later one may lie inside an earlier one). */
  privateDirs: string[];
  /** Without isolation (not root) the worker runs as a plain process. */
  isolated: boolean;
}

/** A running host. */
export interface Host {
  identity: string;
  pid: number;
  output(): string;
  /** Resolves once the worker printed that it polls. */
  ready: Promise<void>;
  readonly exited: boolean;
  /** SIGKILL to the host's process group (the machine is gone); resolves when it has exited. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful shutdown), SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** Mount points of its namespace that are tmpfs. */
  tmpfsMounts(): string[];
  /** A path as this host sees it (through /proc/<pid>/root, which follows the process's mount namespace). */
  view(path: string): string;
}

const live = new Set<Host>();
let exitHook = false;

/** Starts one host: `unshare -m` + tmpfs mounts + `exec node bin/thought-probe.js worker ...` (its own process group). */
export function startHost(spec: HostSpec, readyTimeoutMs = 120_000): Host {
  const workerArgs = [
    CLI, 'worker', '--identity', spec.identity,
    ...(spec.runQueue ? [] : ['--no-run-queue']),
    ...(spec.taskQueues.length ? ['--task-queue', ...spec.taskQueues] : []),
  ];
  // Directories come as arguments up to "--", then the command: no quoting of paths into the script.
  const script = 'set -e; while [ "$1" != "--" ]; do mkdir -p "$1"; mount -t tmpfs -o mode=1777 tmpfs "$1"; shift; done; shift; exec "$@"';
  const [file, args] = spec.isolated
    ? ['unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...spec.privateDirs, '--', process.execPath, ...workerArgs]]
    : [process.execPath, workerArgs];
  if (!spec.isolated) for (const d of spec.privateDirs) mkdirSync(d, { recursive: true });
  const child: ChildProcess = spawn(file, args, {
    cwd: ROOT,
    env: { ...cliEnv(spec.address), ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      live.delete(host);
      resolve();
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host ${spec.identity} (pid ${child.pid}) not polling after ${readyTimeoutMs} ms:\n${out}`)), readyTimeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (out.includes('worker polling')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`host ${spec.identity} exited before it polled:\n${out}`));
    });
  });
  // A deliberate kill rejects `ready` later; callers await it themselves before that.
  ready.catch(() => undefined);
  const signal = (sig: NodeJS.Signals) => {
    if (exited) return;
    try {
      process.kill(-child.pid!, sig);
    } catch {
      child.kill(sig);
    }
  };
  const host: Host = {
    identity: spec.identity,
    pid: child.pid!,
    output: () => out,
    ready,
    get exited() {
      return exited;
    },
    kill: async () => {
      signal('SIGKILL');
      await exit;
    },
    stop: async () => {
      signal('SIGTERM');
      const hard = setTimeout(() => signal('SIGKILL'), 10_000);
      await exit;
      clearTimeout(hard);
    },
    tmpfsMounts: () => tmpfsMountsOf(`/proc/${child.pid}/mountinfo`),
    view: (path) => `/proc/${child.pid}/root${path}`,
  };
  live.add(host);
  if (!exitHook) {
    exitHook = true;
    // A test process that dies without afterAll never leaves a worker polling.
    process.once('exit', () => {
      for (const h of live) {
        try {
          process.kill(-h.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    });
  }
  return host;
}

/** The tmpfs mount points listed in a mountinfo file (this process's: /proc/self/mountinfo). */
export function tmpfsMountsOf(mountinfo = '/proc/self/mountinfo'): string[] {
  let text = '';
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.includes(' - tmpfs '))
    .map((l) => l.split(' ')[4]!.replace(/\\040/g, ' '));
}

/** Kills every host still running (afterAll). */
export async function killHosts(): Promise<void> {
  await Promise.all([...live].map((h) => h.kill()));
}

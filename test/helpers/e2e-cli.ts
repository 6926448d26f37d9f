import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfigInput } from '../../src/config/schema';

/** The repository root; CLI children run here. */
export const ROOT = join(__dirname, '..', '..');
/** The CLI entry point. */
export const CLI = join(ROOT, 'bin', 'thought-probe.js');
/** The committed held-out rows. */
export const HELDOUT = join(ROOT, 'examples', 'data', 'heldout.jsonl');

/** What a finished CLI child left behind. */
export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of CLI children: the test's Temporal server, no colours, no debug noise. */
export function cliEnv(address?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', TEMPORAL_NAMESPACE: 'default' };
  delete env.TEMPORAL_PROFILE;
  delete env.TEMPORAL_CONFIG_FILE;
  if (address) env.TEMPORAL_ADDRESS = address;
  return env;
}

/**
 * Runs `node bin/thought-probe.js ...args` (or another command) as a child process without blocking this
 * process's event loop, so a simulated server living in the test process keeps answering meanwhile.
 */
export function runCommand(
  command: string,
  args: string[],
  opts: { address?: string; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? cliEnv(opts.address), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/** Runs the thought-probe CLI with these arguments. */
export function runCli(args: string[], opts: { address?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, ...args], opts);
}

/** A readable dump of a CLI result, for failure messages. */
export function show(r: CliResult): string {
  return `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

/** A `thought-probe worker` child process. */
export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort if the test process goes away without afterAll: never leave a worker polling.
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

/** Starts `node bin/thought-probe.js worker` against a Temporal address and waits until it polls. */
export async function startWorkerProcess(address: string, timeoutMs = 120_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI, 'worker'], { cwd: ROOT, env: cliEnv(address), stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(hard);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not start polling within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      const check = () => {
        if (/worker polling/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (${code ?? signal}) before polling:\n${out}`));
      });
      check();
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return { child, output: () => out, stop };
}

/** Writes a run config (as JSON, which is YAML) into a directory; returns its path. */
export function writeConfig(dir: string, config: RunConfigInput, file = 'run.yaml'): string {
  const path = join(dir, file);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/** A smoke-like config input against one simulated server: arms by name, the committed held-out rows. */
export function smokeInput(url: string, outDir: string, over: Partial<RunConfigInput> & { armNames?: string[]; armConcurrency?: number } = {}): RunConfigInput {
  const { armNames = ['think_base'], armConcurrency = 8, ...rest } = over;
  return {
    name: 'smoke',
    dataset: { path: HELDOUT, limit: 4 },
    samplesPerPrefix: 2,
    conditions: ['normal_model_thought', 'blank_thought', 'generic_thought'],
    arms: armNames.map((name) => ({ name, baseURL: url, model: name, maxConcurrency: armConcurrency })),
    judge: { baseURL: url, model: 'qwen-judge', maxConcurrency: 8 },
    output: { dir: outDir },
    ...rest,
  };
}

/** The lines of a JSONL file, parsed. */
export function jsonl<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

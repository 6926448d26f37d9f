import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, host, () => done(true));
  });
}

/** What ensureDevServer found or did. */
export interface DevServerInfo {
  address: string;
  started: boolean;
  pid?: number;
  log?: string;
}

/**
 * Reuses a Temporal server at TEMPORAL_ADDRESS (default localhost:7233), or starts the project's pinned dev
 * server there (SQLite file under .state/, UI on 8233), left running after this process so the UI stays up.
 */
export async function ensureDevServer(log: (s: string) => void = () => {}): Promise<DevServerInfo> {
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const [host, portText] = address.split(':') as [string, string];
  const port = Number(portText ?? 7233);
  if (await reachable(host, port)) return { address, started: false };
  if (!['localhost', '127.0.0.1'].includes(host)) throw new Error(`cannot reach Temporal at ${address}; start it or unset TEMPORAL_ADDRESS to use a local dev server`);
  log('starting the local Temporal dev server (npm run temporal)...');
  // Build the pinned CLI first (visible progress), then start the server detached.
  execFileSync('bash', [join(root, 'infra/temporal/ensure-cli.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  mkdirSync(join(root, '.state'), { recursive: true });
  const logFile = join(root, '.state', 'temporal.log');
  const out = openSync(logFile, 'a');
  const child = spawn('bash', [join(root, 'infra/temporal/start-dev.sh')], { detached: true, stdio: ['ignore', out, out], env: { ...process.env, TEMPORAL_PORT: String(port) } });
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (await reachable(host, port)) {
      // The frontend accepts connections a moment before the namespace is ready.
      await new Promise((r) => setTimeout(r, 1500));
      return { address, started: true, pid: child.pid, log: logFile };
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the Temporal dev server did not come up within 60 s; see ${logFile}`);
}

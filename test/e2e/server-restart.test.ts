import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { startSimServer, type SimServer } from '../../src/sim';
import { createWorkers } from '../../src/workers/worker';
import { planCounts } from '../../src/experiment/plan';
import type { ProbeRunResult } from '../../src/workflows/api';
import { bundle, temporalBinary } from '../helpers/temporal';
import { heldoutRows, simConfig, tempDir } from '../helpers/configs';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts the dev server on a SQLite file, so that a restart keeps every workflow. */
async function startServer(bin: string, db: string, port: number): Promise<ChildProcess> {
  const child = spawn(bin, ['server', 'start-dev', '--db-filename', db, '--port', String(port), '--headless', '--log-level', 'error'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      const c = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: '1s' });
      await c.workflowService.getSystemInfo({});
      await c.close();
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  child.kill('SIGKILL');
  throw new Error('the dev server did not start');
}

let sim: SimServer;
let server: ChildProcess | undefined;

afterAll(async () => {
  server?.kill('SIGKILL');
  await sim?.close();
});

test('a run survives a restart of the Temporal server (SQLite file) mid-run, with every request made once', async () => {
  const bin = temporalBinary();
  const db = join(tempDir('tp-db-'), 'temporal.sqlite');
  const port = await freePort();
  sim = await startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 100 });
  const [workflowBundle] = await Promise.all([bundle(), (async () => (server = await startServer(bin, db, port)))()]);
  const connection = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
  const workers: Worker[] = await createWorkers({ connection, workflowBundle });
  const running = workers.map((w) => w.run());
  try {
    const clientConn = await Connection.connect({ address: `127.0.0.1:${port}` });
    const client = new Client({ connection: clientConn });
    const config = simConfig(sim.url, { dataset: { limit: 8 } as never, samplesPerPrefix: 2 });
    const plan = planCounts(8, 2, config.conditions);
    await client.workflow.start('probeRun', { args: [config], workflowId: 'restart-1', taskQueue: 'thought-probe' });
    // Stop the server once about a third of the generation is done, then start it again on the same file.
    const armTotal = plan.thoughts + plan.suffixes;
    for (let i = 0; i < 300 && (sim.stats().models.think_base?.completed ?? 0) < armTotal / 3; i++) await new Promise((r) => setTimeout(r, 50));
    const killed = new Promise((r) => server!.once('exit', r));
    server!.kill('SIGTERM');
    await killed;
    const atStop = sim.stats().models.think_base?.completed ?? 0;
    expect(atStop).toBeLessThan(armTotal);
    await new Promise((r) => setTimeout(r, 2000));
    server = await startServer(bin, db, port);
    const result = (await client.workflow.getHandle('restart-1').result()) as ProbeRunResult;
    const stats = sim.stats();
    // Requests finished while the server was down were stored; none is made twice.
    expect(stats.models.think_base!.requests).toBe(armTotal);
    expect(stats.models['qwen-judge']!.requests).toBe(plan.judgments);
    const records = readFileSync(result.artifacts.samples, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(plan.judgments);
    expect(new Set(records.map((r) => `${r.condition}/${r.prefixId}/${r.sample}`)).size).toBe(plan.judgments);
    expect(records.every((r) => r.judge.valid)).toBe(true);
    await clientConn.close();
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running).catch(() => undefined);
    await connection.close();
  }
}, 180_000);

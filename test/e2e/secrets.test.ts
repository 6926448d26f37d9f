/**
 * No secret anywhere. A full smoke run on a real dev server, with the PostgreSQL store, against simulated servers
 * that demand API keys (401 without them): the keys are set only in the worker process's environment (the CLI that
 * starts, follows and exports the run has none). Then every workflow history (parent and arms), every artifact, every
 * file under the output folder, every row of the store, the worker's log (at DEBUG), its metrics and the CLI's
 * output are searched for the key values and the store's password, as they are and in base64: none. The same again
 * with the payload codec on (the CLI's `run` included), also searching for the codec key and in the decrypted
 * histories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client as PgClient } from 'pg';
import { decryptPayloadsIn, EncryptionCodec, isEncrypted, parseCodecKeys } from '../../src/codec';
import { planCounts } from '../../src/experiment/plan';
import { fetchRunHistories } from '../../src/replay/replay';
import { startSimServer, type SimServer } from '../../src/sim';
import { heldoutRows, tempDir } from '../helpers/configs';
import { CLI, cliEnv, jsonl, runCommand, show, smokeInput, writeConfig, type CliResult } from '../helpers/e2e-cli';
import { usePostgres } from '../helpers/postgres';
import { startTemporal } from '../helpers/temporal';

const ARM_KEY = `sk-arm-${randomBytes(18).toString('hex')}`;
const CODEC_KEY = randomBytes(32);
const CODEC_KEYS = `k1=${CODEC_KEY.toString('base64')}`;
const JUDGE_KEY = `sk-judge-${randomBytes(18).toString('hex')}`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const pg = usePostgres();
let env: TestWorkflowEnvironment;
let armSim: SimServer;
let judgeSim: SimServer;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  [env, armSim, judgeSim] = await Promise.all([
    startTemporal(),
    startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 20, apiKey: ARM_KEY }),
    startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 20, apiKey: JUDGE_KEY }),
  ]);
}, 300_000);

afterAll(async () => {
  for (const worker of workers.filter((w) => w.exitCode === null)) {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
  await armSim?.close();
  await judgeSim?.close();
  await env?.teardown();
}, 60_000);

/** The secrets and the forms they could leak in. */
function secretForms(): Record<string, string[]> {
  const forms = (s: string) => [s, Buffer.from(s).toString('base64'), encodeURIComponent(s)];
  return {
    ARM_KEY: forms(ARM_KEY),
    JUDGE_KEY: forms(JUDGE_KEY),
    'store password': forms(pg.cluster.password),
    'codec key': [...forms(CODEC_KEY.toString('base64')), CODEC_KEY.toString('hex')],
  };
}

/** Which secrets a text holds (none, we expect). */
function leaks(where: string, text: string): string[] {
  return Object.entries(secretForms()).flatMap(([name, forms]) => (forms.some((f) => text.includes(f)) ? [`${name} in ${where}`] : []));
}

/** Every string and byte string of a proto object, as text. */
function rawText(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (ArrayBuffer.isView(v)) out.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'));
  else if (v && typeof v === 'object') for (const x of Object.values(v)) rawText(x, out);
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test.each([
  ['without the codec', 'secrets-1', undefined],
  ['with the codec on', 'secrets-2', CODEC_KEYS],
])('%s: a smoke run against servers that demand keys completes with the keys only in the worker, and no secret is anywhere', async (_name, runId, codecKeys) => {
  // The servers really demand the keys.
  for (const [sim, model] of [[armSim, 'think_base'], [judgeSim, 'qwen-judge']] as const) {
    const res = await fetch(`${sim.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }) });
    expect(res.status).toBe(401);
  }
  armSim.resetStats();
  judgeSim.resetStats();

  // The worker: keys and the store URL in its environment only, logging at DEBUG, with metrics.
  const codec: NodeJS.ProcessEnv = codecKeys ? { THOUGHT_PROBE_CODEC_KEYS: codecKeys } : {};
  const workerEnv = { ...cliEnv(env.address), ...codec, THINK_KEY: ARM_KEY, JUDGE_KEY, THOUGHT_PROBE_DATABASE_URL: pg.url, THOUGHT_PROBE_LOG_LEVEL: 'DEBUG' };
  let workerLog = '';
  const worker = spawn(process.execPath, [CLI, 'worker', '--metrics-port', '0', '--metrics-host', '127.0.0.1'], { env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  workers.push(worker);
  worker.stdout!.setEncoding('utf8').on('data', (d: string) => (workerLog += d));
  worker.stderr!.setEncoding('utf8').on('data', (d: string) => (workerLog += d));
  for (let i = 0; i < 1200 && !/worker polling/.test(workerLog); i++) await sleep(100);
  expect(workerLog).toContain('worker polling');

  // The CLI: the store's URL (it writes the dataset rows and exports), no API key.
  const cliEnvironment: NodeJS.ProcessEnv = { ...cliEnv(env.address), ...codec, THOUGHT_PROBE_DATABASE_URL: pg.url };
  delete cliEnvironment.THINK_KEY;
  delete cliEnvironment.JUDGE_KEY;
  const cli = (args: string[]): Promise<CliResult> => runCommand(process.execPath, [CLI, ...args], { env: cliEnvironment, timeoutMs: 180_000 });
  const dir = tempDir('tp-secrets-');
  const outDir = join(dir, 'runs');
  const input = smokeInput(armSim.url, outDir, {
    name: 'secrets',
    store: { kind: 'postgres' },
    arms: [{ name: 'think_base', baseURL: armSim.url, model: 'think_base', maxConcurrency: 4, apiKeyEnv: 'THINK_KEY' }],
    judge: { baseURL: judgeSim.url, model: 'qwen-judge', maxConcurrency: 4, apiKeyEnv: 'JUDGE_KEY' },
  });
  const configFile = writeConfig(dir, input);
  const run = await cli(['run', configFile, '--id', runId]);
  expect({ status: run.status, output: run.status === 0 ? '' : show(run) }).toEqual({ status: 0, output: '' });

  // The run is complete and the keys were used: every request got through, none was refused.
  const plan = planCounts(4, 2, input.conditions as never);
  expect(armSim.stats().models.think_base).toMatchObject({ requests: plan.thoughts + plan.suffixes, errors: 0 });
  expect(judgeSim.stats().models['qwen-judge']).toMatchObject({ requests: plan.judgments, errors: 0 });

  const status = await cli(['status', runId, '--json']);
  const debug = await cli(['debug', runId]);
  const historyDir = `${join(dir, 'histories')}/`;
  const history = await cli(['history', runId, '--children', '--out', historyDir]);
  const exportDir = join(dir, 'export');
  const exported = await cli(['export', runId, '--out', exportDir]);
  for (const r of [status, debug, history, exported]) expect(r.status).toBe(0);
  expect(jsonl(readFileSync(join(exportDir, 'samples.jsonl'), 'utf8'))).toHaveLength(plan.judgments);

  // The search finds what is there: the worker's own environment holds all three.
  expect(leaks('the worker environment', JSON.stringify(workerEnv))).toHaveLength(codecKeys ? 4 : 3);
  const found: string[] = [];
  // Every workflow history, from the server.
  const histories = await fetchRunHistories(env.client, runId, true);
  expect(histories.map((h) => h.workflowId)).toEqual([runId, `${runId}/arm/think_base`]);
  for (const h of histories) found.push(...leaks(`history ${h.workflowId}`, rawText(h.history).join('\n')));
  // Encrypted, an API key could hide in the ciphertext: search the decrypted histories too.
  if (codecKeys) {
    const input = histories[0]!.history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    expect(input.map((p) => isEncrypted(p as never))).toEqual(input.map(() => true));
    const key = new EncryptionCodec(parseCodecKeys(codecKeys));
    for (const h of histories) found.push(...leaks(`decrypted history ${h.workflowId}`, rawText(decryptPayloadsIn(h.history, key)).join('\n')));
  }
  // Every file the run, history and export wrote (artifacts, exported artifacts, history files).
  const files = [...filesUnder(outDir), ...filesUnder(exportDir), ...filesUnder(historyDir)];
  expect(files.length).toBeGreaterThanOrEqual(12);
  for (const f of files) found.push(...leaks(f, readFileSync(f).toString('utf8')));
  // Every row of every table of the store.
  const db = new PgClient({ connectionString: pg.url });
  await db.connect();
  let rows = 0;
  try {
    const tables = await db.query<{ t: string }>("SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')");
    expect(tables.rows.length).toBeGreaterThan(0);
    for (const { t } of tables.rows) {
      const r = await db.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM ${t} x`);
      rows += r.rows.length;
      found.push(...leaks(`store table ${t}`, r.rows.map((x) => x.j).join('\n')));
    }
  } finally {
    await db.end();
  }
  expect(rows).toBeGreaterThanOrEqual(plan.thoughts + plan.suffixes + plan.judgments);
  // The worker's metrics, its log and the CLI's output.
  const metricsPort = /metrics on http:\/\/[^:]+:(\d+)\/metrics/.exec(workerLog)![1];
  found.push(...leaks('worker metrics', await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()));
  found.push(...leaks('worker log', workerLog));
  for (const [name, r] of Object.entries({ run, status, debug, history, exported })) found.push(...leaks(`CLI ${name} output`, r.stdout + r.stderr));
  expect(workerLog.length).toBeGreaterThan(1000);
  expect(found).toEqual([]);
  // The next scenario's worker must be the only one polling.
  const exited = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGTERM');
  await exited;
}, 600_000);

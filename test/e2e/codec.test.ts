/**
 * Encrypted payloads, on a real dev server with real workers, real HTTP to the simulated server and the CLI as a
 * user runs it: with THOUGHT_PROBE_CODEC_KEYS set, the raw history (fetched without the codec) holds no prefix,
 * thought or suffix text and every payload names its key id; the histories replay with the key and fail clearly
 * without it; a run started before a key rotation completes after it; history, replay, status, debug and export
 * work with the codec on; the codec server lets the pinned temporal CLI show plain payloads.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { CODEC_KEYS_ENV, isEncrypted, keyIdOf, probeDataConverter } from '../../src/codec';
import { planCounts } from '../../src/experiment/plan';
import type { NamedHistory } from '../../src/replay/files';
import { fetchRunHistories, replayHistories } from '../../src/replay/replay';
import { createWorkers } from '../../src/workers/worker';
import { probeRun } from '../../src/workflows';
import type { ProbeRunResult } from '../../src/workflows/api';
import { heldoutRows, simConfig, tempDir } from '../helpers/configs';
import { CLI, cliEnv, runCommand, type CliResult } from '../helpers/e2e-cli';
import { temporalBinary, withServerAndSim } from '../helpers/temporal';

const t = withServerAndSim(30);
const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** Runs `fn` with THOUGHT_PROBE_CODEC_KEYS set to `keys` (unset for undefined), restoring it after. */
async function withKeys<T>(keys: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env[CODEC_KEYS_ENV];
  if (keys === undefined) delete process.env[CODEC_KEYS_ENV];
  else process.env[CODEC_KEYS_ENV] = keys;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[CODEC_KEYS_ENV];
    else process.env[CODEC_KEYS_ENV] = before;
  }
}

/** Workers and a client made under the current keys, as a worker process and the CLI make them. */
async function startWorkers(): Promise<{ workers: Worker[]; running: Promise<void[]>; client: Client }> {
  const workers = await createWorkers({ connection: t.env.nativeConnection, workflowBundle: t.workflowBundle });
  return { workers, running: Promise.all(workers.map((w) => w.run())), client: new Client({ connection: t.env.connection, dataConverter: probeDataConverter() }) };
}

async function stopWorkers(w: { workers: Worker[]; running: Promise<void[]> }): Promise<void> {
  w.workers.forEach((x) => x.shutdown());
  await w.running;
}

/** Every byte string and string of a proto object, as text: what anyone reading the server's store would see. */
function rawText(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (ArrayBuffer.isView(v)) out.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'));
  else if (v && typeof v === 'object') for (const x of Object.values(v)) rawText(x, out);
  return out;
}

/** The payloads of a history (every object with metadata and data, wherever it sits). */
function payloadsOf(v: unknown, out: object[] = [], path = ''): object[] {
  if (!v || typeof v !== 'object' || ArrayBuffer.isView(v)) return out;
  if ('metadata' in v && 'data' in v && (v as { metadata?: unknown }).metadata) out.push(Object.assign(Object.create(null), v, { path }));
  else for (const [k, x] of Object.entries(v)) payloadsOf(x, out, `${path}.${k}`);
  return out;
}

/**
 * The payloads Temporal itself keeps plain, whatever the codec: patch markers and the TemporalChangeVersion search
 * attribute that names them (core writes both; search attributes must stay readable for the server's index). They
 * hold patch ids only, which the test checks.
 */
function plainPayloads(payloads: object[]): { path: string; value: unknown }[] {
  return payloads
    .filter((p) => !isEncrypted(p as never))
    .map((p) => ({ path: (p as { path: string }).path, value: defaultPayloadConverter.fromPayload(p as never) }));
}
const isPatchId = (v: unknown) => typeof v === 'string' && /^[a-z-]+-v\d+$/.test(v);
/** Plain payloads other than patch markers ({id, deprecated}) and change-version attributes (a list of patch ids). */
const patchOnly = (plain: { path: string; value: unknown }[]) =>
  plain.filter(({ path, value }) => {
    if (/patch-data\.payloads\.0$/.test(path)) return !(isPatchId((value as { id?: unknown })?.id) && Object.keys(value as object).every((k) => ['id', 'deprecated'].includes(k)));
    if (/TemporalChangeVersion$/.test(path)) return !(Array.isArray(value) && value.every(isPatchId));
    return true;
  });

/** The prefix, true suffix, thought and predicted suffix texts of a run (long enough to be unmistakable). */
function runTexts(result: ProbeRunResult, rows = heldoutRows().slice(0, 4)): string[] {
  const records = lines(result.artifacts.samples);
  const texts = [...rows.flatMap((r) => [r.prefix, r.suffix]), ...records.flatMap((r) => [String(r.thought), String(r.suffix)])];
  return [...new Set(texts.map((x) => x.trim()).filter((x) => x.length >= 12))];
}

/** Whether a text appears in a haystack as it is or as a JSON string body (quotes escaped). */
const appears = (hay: string, x: string) => hay.includes(x) || hay.includes(JSON.stringify(x).slice(1, -1));

const rawHistories = (id: string) => fetchRunHistories(t.env.client, id, true);

function cli(args: string[], keys: string | undefined): Promise<CliResult> {
  const env = cliEnv(t.env.address);
  if (keys === undefined) delete env[CODEC_KEYS_ENV];
  else env[CODEC_KEYS_ENV] = keys;
  return runCommand(process.execPath, [CLI, ...args], { env, timeoutMs: 120_000 });
}

let plainRun: { result: ProbeRunResult; histories: NamedHistory[] };
let encRun: { result: ProbeRunResult; histories: NamedHistory[] };
const conditions: ('normal_model_thought' | 'blank_thought' | 'same_arm_swapped_thought')[] = ['normal_model_thought', 'blank_thought', 'same_arm_swapped_thought'];

beforeAll(async () => {
  // The same run without and with the codec: the first shows what the raw history holds when nothing is encrypted.
  for (const [id, keys] of [['plain-1', undefined], ['enc-1', `k1=${K1}`]] as const) {
    await withKeys(keys, async () => {
      const w = await startWorkers();
      try {
        const config = simConfig(t.sim.url, { conditions });
        const result = await w.client.workflow.execute(probeRun, { args: [config], workflowId: id, taskQueue: 'thought-probe' });
        const run = { result, histories: await rawHistories(id) };
        if (id === 'plain-1') plainRun = run;
        else encRun = run;
      } finally {
        await stopWorkers(w);
      }
    });
  }
}, 300_000);

test('with the codec on, the raw history holds no prefix, thought or suffix text, and every payload names key k1', () => {
  const plan = planCounts(4, 2, conditions);
  expect(lines(encRun.result.artifacts.samples)).toHaveLength(plan.judgments);
  expect(encRun.histories.map((h) => h.workflowId)).toEqual(['enc-1', 'enc-1/arm/think_base']);
  // The control: without the codec the same run's history shows the texts (the search below can find them).
  const plainHay = plainRun.histories.flatMap((h) => rawText(h.history)).join('\n');
  const plainTexts = runTexts(plainRun.result);
  const prefixes = heldoutRows().slice(0, 4).map((r) => r.prefix.trim());
  expect(plainTexts.filter((x) => appears(plainHay, x))).toEqual(expect.arrayContaining(prefixes));
  const hay = encRun.histories.flatMap((h) => rawText(h.history)).join('\n');
  const texts = runTexts(encRun.result);
  expect(texts.length).toBeGreaterThanOrEqual(8);
  expect(texts.filter((x) => appears(hay, x))).toEqual([]);
  // Every payload in both histories is encrypted under k1, none is plain.
  const payloads = encRun.histories.flatMap((h) => payloadsOf(h.history));
  expect(payloads.length).toBeGreaterThan(20);
  expect(patchOnly(plainPayloads(payloads))).toEqual([]);
  expect(new Set(payloads.filter((p) => isEncrypted(p as never)).map((p) => keyIdOf(p as never)))).toEqual(new Set(['k1']));
  expect(payloads.filter((p) => isEncrypted(p as never)).length).toBeGreaterThan(20);
});

test('the encrypted histories replay with the key and fail clearly without it', async () => {
  const withKey = await replayHistories(encRun.histories, { workflowBundle: t.workflowBundle }, probeDataConverter({ [CODEC_KEYS_ENV]: `k1=${K1}` }));
  expect(withKey.map((o) => o.ok)).toEqual([true, true]);
  const without = await replayHistories(encRun.histories, { workflowBundle: t.workflowBundle }, probeDataConverter({}));
  expect(without.map((o) => o.ok)).toEqual([false, false]);
  expect(without[0]!.kind).toBe('failure');
  expect(without[0]!.message).toMatch(/encrypted with key id \\?"k1\\?", but THOUGHT_PROBE_CODEC_KEYS is not set/);
  const wrongId = await replayHistories(encRun.histories, { workflowBundle: t.workflowBundle }, probeDataConverter({ [CODEC_KEYS_ENV]: `k2=${K2}` }));
  expect(wrongId[0]!.message).toMatch(/key id \\?"k1\\?", which THOUGHT_PROBE_CODEC_KEYS does not hold .*\(it holds \\?"k2\\?"\)/);
});

test('a run started before a key rotation completes after it, every record once; its history replays with both keys', async () => {
  t.sim.resetStats();
  const config = simConfig(t.sim.url, {
    conditions,
    dataset: { limit: 8 } as never,
    arms: [{ name: 'think_base', baseURL: t.sim.url, model: 'think_base', maxConcurrency: 2 }],
    judge: { baseURL: t.sim.url, model: 'qwen-judge', maxConcurrency: 2 },
  });
  const plan = planCounts(8, 2, conditions);
  // Before: keys k1; the run starts and gets part of the way.
  await withKeys(`k1=${K1}`, async () => {
    const w = await startWorkers();
    try {
      await w.client.workflow.start(probeRun, { args: [config], workflowId: 'rot-1', taskQueue: 'thought-probe' });
      for (let i = 0; i < 600 && (t.sim.stats().models['qwen-judge']?.completed ?? 0) < 6; i++) await sleep(100);
    } finally {
      await stopWorkers(w);
    }
  });
  const judgedBefore = t.sim.stats().models['qwen-judge']?.completed ?? 0;
  expect(judgedBefore).toBeGreaterThanOrEqual(6);
  expect(judgedBefore).toBeLessThan(plan.judgments);
  // After: k2 encrypts, k1 still decrypts; new workers and a new client take the run over.
  const result = await withKeys(`k2=${K2},k1=${K1}`, async () => {
    const w = await startWorkers();
    try {
      return await w.client.workflow.getHandle('rot-1').result();
    } finally {
      await stopWorkers(w);
    }
  });
  const records = lines(result.artifacts.samples);
  expect(records).toHaveLength(plan.judgments);
  expect(new Set(records.map((r) => `${r.condition}/${r.prefixId}/${r.sample}`)).size).toBe(plan.judgments);
  const histories = await rawHistories('rot-1');
  const all = histories.flatMap((h) => payloadsOf(h.history));
  expect(patchOnly(plainPayloads(all))).toEqual([]);
  const ids = new Set(all.filter((p) => isEncrypted(p as never)).map((p) => keyIdOf(p as never)));
  expect(ids).toEqual(new Set(['k1', 'k2']));
  const both = await replayHistories(histories, { workflowBundle: t.workflowBundle }, probeDataConverter({ [CODEC_KEYS_ENV]: `k2=${K2},k1=${K1}` }));
  expect(both.map((o) => o.ok)).toEqual([true, true]);
  const newOnly = await replayHistories(histories, { workflowBundle: t.workflowBundle }, probeDataConverter({ [CODEC_KEYS_ENV]: `k2=${K2}` }));
  expect(newOnly.map((o) => o.ok)).toEqual([false, false]);
}, 300_000);

test('a worker without the key of an activity\'s payloads fails the run at once, naming the key id, instead of retrying', async () => {
  t.sim.resetStats();
  const config = simConfig(t.sim.url, {
    conditions,
    arms: [{ name: 'think_base', baseURL: t.sim.url, model: 'think_base', maxConcurrency: 2, taskQueue: 'host-x' }],
    judge: { baseURL: t.sim.url, model: 'qwen-judge', maxConcurrency: 2, taskQueue: 'host-x' },
  });
  // The run queue's worker holds both keys; host-x only the new one, so it cannot read what the client encrypted (k1).
  const run = await withKeys(`k1=${K1},k2=${K2}`, startWorkers);
  const host = await withKeys(`k2=${K2}`, async () => {
    const workers = await createWorkers({ connection: t.env.nativeConnection, workflowBundle: t.workflowBundle, taskQueues: ['host-x'], runQueue: false });
    return { workers, running: Promise.all(workers.map((w) => w.run())) };
  });
  try {
    const err = await run.client.workflow.execute(probeRun, { args: [config], workflowId: 'miss-1', taskQueue: 'thought-probe' }).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const chain: string[] = [];
    for (let c: unknown = err; c; c = (c as { cause?: unknown }).cause) chain.push(`${(c as { type?: string }).type ?? (c as Error).name}: ${(c as Error).message}`);
    expect(chain.join('\n')).toMatch(/CodecKeyMissing: a payload is encrypted with key id "k1", which THOUGHT_PROBE_CODEC_KEYS does not hold in this process \(.*\) \(it holds "k2"\)/);
  } finally {
    await stopWorkers(host);
    await stopWorkers(run);
  }
  // No model request was made, and each activity that met the missing key ran once: not retried.
  expect(t.sim.stats().totalRequests).toBe(0);
  const arm = (await rawHistories('miss-1')).find((h) => h.workflowId === 'miss-1/arm/think_base')!;
  const failed = arm.history.events!.filter((e) => e.activityTaskFailedEventAttributes);
  expect(failed.length).toBeGreaterThan(0);
  const starts = arm.history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
  expect(starts.every((a) => a === 1)).toBe(true);
}, 180_000);

describe('the CLI with the codec on', () => {
  const keys = `k1=${K1}`;
  // Queries (status) of a closed run are answered by a worker: one holding the key polls meanwhile.
  let w: Awaited<ReturnType<typeof startWorkers>>;
  beforeAll(async () => {
    w = await withKeys(keys, startWorkers);
  });
  afterAll(async () => {
    if (w) await stopWorkers(w);
  });

  test('history exports the encrypted histories; replay passes with the key and exits 2 naming the key id without it', async () => {
    const dir = tempDir('tp-codec-');
    const out = `${join(dir, 'h')}/`;
    const h = await cli(['history', 'enc-1', '--children', '--out', out], keys);
    expect(h.status).toBe(0);
    const files = readdirSync(out).map((f) => join(out, f));
    expect(files).toHaveLength(2);
    const hay = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(hay).toContain(Buffer.from('binary/encrypted').toString('base64'));
    const ok = await cli(['replay', ...files], keys);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('OK enc-1/arm/think_base');
    const noKey = await cli(['replay', ...files], undefined);
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toMatch(/key id "k1", but THOUGHT_PROBE_CODEC_KEYS is not set/);
    for (const r of [h, ok, noKey]) expect(r.stdout + r.stderr).not.toContain(K1);
  }, 180_000);

  test('status, debug and export read the encrypted run; without the key they exit 2 naming the variable', async () => {
    const status = await cli(['status', 'enc-1', '--json'], keys);
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: expect.stringMatching(/COMPLETED/i) });
    const debug = await cli(['debug', 'enc-1'], keys);
    expect(debug.status).toBe(0);
    const out = join(tempDir('tp-codec-export-'), 'x');
    const exported = await cli(['export', 'enc-1', '--out', out], keys);
    expect(exported.status).toBe(0);
    expect(readFileSync(join(out, 'samples.jsonl'), 'utf8')).toBe(readFileSync(encRun.result.artifacts.samples, 'utf8'));
    for (const args of [['status', 'enc-1'], ['export', 'enc-1', '--out', `${out}-2`]]) {
      const r = await cli(args, undefined);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/key id "k1", but THOUGHT_PROBE_CODEC_KEYS is not set/);
    }
    const bad = await cli(['status', 'enc-1'], 'k1=short');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('THOUGHT_PROBE_CODEC_KEYS: entry 1: the key is not the base64 of exactly 32 bytes');
    // A worker and the codec server with a malformed value stop at once with exit 2, naming the variable.
    for (const args of [['worker'], ['codec-server', '--port', '0']]) {
      const r = await cli(args, `k1=${K1.slice(0, 20)}`);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('THOUGHT_PROBE_CODEC_KEYS: entry 1: the key is not the base64 of exactly 32 bytes');
      expect(r.stderr).not.toContain(K1.slice(0, 20));
    }
    for (const r of [status, debug, exported]) expect(r.stdout + r.stderr).not.toContain(K1);
  }, 180_000);

  test('codec-server lets `temporal workflow show --codec-endpoint` show plain payloads', async () => {
    const env = cliEnv(t.env.address);
    env[CODEC_KEYS_ENV] = keys;
    const { spawn } = await import('node:child_process');
    const server = spawn(process.execPath, [CLI, 'codec-server', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      server.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      server.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      for (let i = 0; i < 300 && !/listening on (\S+)/.test(out); i++) await sleep(100);
      const url = /listening on (\S+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect(out).not.toContain(K1);
      const temporal = temporalBinary();
      const base = ['workflow', 'show', '--workflow-id', 'enc-1', '--address', t.env.address, '--namespace', 'default', '--output', 'json'];
      const plain = await runCommand(temporal, [...base, '--codec-endpoint', url!], { env });
      expect(plain.status).toBe(0);
      const raw = await runCommand(temporal, base, { env });
      expect(raw.status).toBe(0);
      const prefix = heldoutRows()[0]!.prefix.trim();
      // The first event's input as each output shows it: decoded (json/plain, the config with the rows) or ciphertext.
      const input = (r: CliResult) => {
        const p = (JSON.parse(r.stdout) as { events: { workflowExecutionStartedEventAttributes: { input: { payloads: { metadata: { encoding: string }; data: string }[] } } }[] }).events[0]!
          .workflowExecutionStartedEventAttributes.input.payloads[0]!;
        return { encoding: Buffer.from(p.metadata.encoding, 'base64').toString(), data: Buffer.from(p.data, 'base64').toString('utf8') };
      };
      expect(input(plain).encoding).toBe('json/plain');
      expect(appears(input(plain).data, prefix)).toBe(true);
      expect(input(raw).encoding).toBe('binary/encrypted');
      expect(appears(input(raw).data, prefix)).toBe(false);
    } finally {
      server.kill('SIGTERM');
    }
  }, 120_000);
});

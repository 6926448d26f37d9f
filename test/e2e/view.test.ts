/**
 * End to end: `thought-probe view` (the built CLI, a child process) over three runs on a real Temporal dev server,
 * driven through real HTTP and a real headless Chromium (Debian's, every request to anywhere but the view server
 * blocked and counted):
 * - a finished run (a real probeRun through a worker and the simulated endpoints; two of its samples fail with a 400);
 * - a running run (real too; its worker is shut down mid-run, so its workflow stays RUNNING with a known number of
 *   records in its store);
 * - a 10x run (320 prefixes, 20,480 samples). Its workflow is a real probeRun started on a task queue no worker
 *   polls, so Temporal lists it as running; its store is written directly through the store API with the records
 *   the simulated endpoints would have produced (src/sim/records), not by 80,000 model calls, and its samples.jsonl
 *   by the real writeArtifacts activity. The view's server and the browser are real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createActivities } from '../../src/activities';
import type { SampleRecord } from '../../src/experiment/records';
import { FileRunStore } from '../../src/store';
import { largeRunConfig, writeLargeRun } from '../helpers/large-run';
import { simConfig, tempDir } from '../helpers/configs';
import { CLI, cliEnv, jsonl, ROOT, runCli, show } from '../helpers/e2e-cli';
import { withServerAndSim, withWorkers } from '../helpers/temporal';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const t = withServerAndSim(40);
let out: string;
let view: ChildProcess;
let base: string;
let browser: Browser;
let finished: SampleRecord[];
let runningStored: number;
let runningPlanned: number;
let big: SampleRecord[];
const outside: string[] = [];

/** The (arm, condition, prefix, sample) of each sample row on a page, in order. */
function rowKeys(page: Page): Promise<string[]> {
  return page.locator('#samples tr.row').evaluateAll((rows) => rows.map((r) => ['arm', 'condition', 'prefix', 'sample'].map((k) => r.getAttribute(`data-${k}`)).join('|')));
}

const key = (r: { arm: string; condition: string; prefixId: string; sample: number | string }) => `${r.arm}|${r.condition}|${r.prefixId}|${r.sample}`;

async function get(path: string): Promise<{ status: number; body: unknown; text: string }> {
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // An HTML page.
  }
  return { status: res.status, body, text };
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
  await page.route('**', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${base}/`)) return route.continue();
    outside.push(url);
    return route.abort('blockedbyclient');
  });
  page.on('pageerror', (e) => outside.push(`page error: ${e.message}`));
  return page;
}

function storedKeys(dir: string, arm: string): Set<string> {
  const text = readFileSync(join(dir, 'store', arm, 'records.jsonl'), 'utf8');
  return new Set(jsonl<{ key: string }>(text).map((e) => e.key));
}

beforeAll(async () => {
  out = tempDir('tp-view-');
  const client = t.env.client;
  // The finished run and the running run, on the real worker.
  const done = simConfig(t.sim.url, { name: 'view-done', output: { dir: out }, conditions: ['normal_model_thought', 'blank_thought', 'same_arm_swapped_thought'] });
  const slow = simConfig(t.sim.url, {
    name: 'view-running', output: { dir: out }, dataset: { limit: 24 } as never, samplesPerPrefix: 2,
    conditions: ['normal_model_thought', 'blank_thought', 'generic_thought'],
    arms: [{ name: 'think_base', baseURL: t.sim.url, model: 'think_base', maxConcurrency: 1 }],
    judge: { baseURL: t.sim.url, model: 'qwen-judge', maxConcurrency: 1 },
  });
  runningPlanned = 24 * 2 * 3;
  await withWorkers(t.env, t.workflowBundle, async () => {
    // One prefix's blank-thought suffixes get a 400: two samples of the finished run fail, as samples.jsonl records.
    t.sim.setFaults([{ kind: '400', model: 'think_base', match: `${done.dataset.rows![1]!.prefix.trimEnd()} <think></think>` }]);
    await client.workflow.execute('probeRun', { args: [done], workflowId: 'view-done', taskQueue: 'thought-probe' });
    t.sim.setFaults([]);
    await client.workflow.start('probeRun', { args: [slow], workflowId: 'view-running', taskQueue: 'thought-probe' });
    const store = new FileRunStore(join(out, 'view-running'));
    for (let i = 0; ; i++) {
      if ((await store.all('think_base', 'records')).length >= 6) break;
      if (i > 600) throw new Error('the running run stored no records in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    store.close();
  });
  // The worker is gone: the running run's store holds what it holds from here on.
  runningStored = storedKeys(join(out, 'view-running'), 'think_base').size;
  finished = jsonl<SampleRecord>(readFileSync(join(out, 'view-done', 'samples.jsonl'), 'utf8'));

  // The 10x run: a workflow nobody works on, and its store written directly.
  const config = largeRunConfig('view-10x', 320, out);
  await client.workflow.start('probeRun', { args: [config], workflowId: 'view-10x', taskQueue: 'view-test-no-worker' });
  const { dir } = await writeLargeRun(config, 'view-10x');
  await createActivities().writeArtifacts({ storeDir: dir, runId: 'view-10x', swapIndexes: {}, errors: [] });
  big = jsonl<SampleRecord>(readFileSync(join(dir, 'samples.jsonl'), 'utf8'));

  view = spawn(process.execPath, [CLI, 'view', '--port', '0'], { cwd: ROOT, env: cliEnv(t.env.address), stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  view.stderr!.setEncoding('utf8').on('data', (d: string) => (said += d));
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`view did not start:\n${said}`)), 60_000);
    view.stdout!.setEncoding('utf8').on('data', (d: string) => {
      said += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(said);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    view.once('exit', (code) => reject(new Error(`view exited (${code}):\n${said}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  view?.kill('SIGTERM');
  for (const id of ['view-running', 'view-10x']) await t.env?.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  if (out) rmSync(out, { recursive: true, force: true });
}, 60_000);

afterEach(() => {
  // Nothing any page asked for went anywhere but the view server.
  expect(outside).toEqual([]);
});

test('the run list comes from Temporal: status and progress of the finished, the running and the 10x run', async () => {
  // Visibility is eventually consistent: the list shows new runs within moments.
  let runs: { runId: string; status: string; stored: number; planned: number; arms: string[] }[] = [];
  for (let i = 0; i < 50 && runs.length < 3; i++) {
    runs = ((await get('/api/runs')).body as { runs: typeof runs }).runs;
    if (runs.length < 3) await new Promise((r) => setTimeout(r, 200));
  }
  const by = new Map(runs.map((r) => [r.runId, r]));
  const failed = finished.filter((r) => r.error !== null);
  expect(failed).toHaveLength(2);
  expect(by.get('view-done')).toMatchObject({ status: 'COMPLETED', stored: finished.length - 2, planned: finished.length, arms: ['think_base'] });
  expect(by.get('view-running')).toMatchObject({ status: 'RUNNING', stored: runningStored, planned: runningPlanned });
  expect(runningStored).toBeGreaterThan(0);
  expect(runningStored).toBeLessThan(runningPlanned);
  expect(by.get('view-10x')).toMatchObject({ status: 'RUNNING', stored: 20_480, planned: 20_480 });

  const page = await newPage();
  try {
    await page.goto(`${base}/`);
    expect(await page.locator('#runs tr[data-run="view-done"] td.status').textContent()).toBe('completed');
    expect(await page.locator('#runs tr[data-run="view-running"] td.num').textContent()).toBe(`${runningStored} / ${runningPlanned}`);
    await page.click('#runs tr[data-run="view-done"] a');
    expect(await page.locator('#run-status .status').textContent()).toBe('completed');
  } finally {
    await page.close();
  }
}, 60_000);

test('a finished run: charts and tables, every sample in the paged browser, a sample page with its texts and the other conditions', async () => {
  const page = await newPage();
  try {
    await page.goto(`${base}/runs/view-done`);
    expect(await page.locator('figure[data-chart="reward"] > svg').count()).toBe(1);
    expect(await page.locator('figure[data-chart="heatmap"] > svg').count()).toBe(1);
    expect(await page.locator('#run-progress').textContent()).toBe(`${finished.length - 2} / ${finished.length}`);
    expect(await page.locator('script').count()).toBe(0);
    await page.click('#browse-samples');
    expect(await page.locator('#sample-count').textContent()).toBe(`${finished.length} matching samples`);
    expect(await rowKeys(page)).toEqual(finished.map(key));

    // The run page's numbers are the run's own: summary.json's, computed from the same records.
    const summary = JSON.parse(readFileSync(join(out, 'view-done', 'summary.json'), 'utf8')) as { arms: unknown; scale: unknown };
    expect((await get('/api/runs/view-done')).body).toMatchObject({ summary: { arms: summary.arms, scale: summary.scale } });

    // The failed samples are there as samples.jsonl has them: no reward, their error on their page.
    const bad = finished.find((r) => r.error !== null)!;
    expect((await get(`/api/runs/view-done/samples/${bad.arm}/${bad.condition}/${bad.prefixId}/${bad.sample}`)).body).toMatchObject({ reward: null, error: bad.error, suffix: '' });
    expect(bad.error).toContain('400');

    // Filters through the form: arm, condition and reward together.
    await page.selectOption('#f-condition', 'blank_thought');
    await page.selectOption('#f-reward', '0');
    await page.click('#f-apply');
    const blankZero = finished.filter((r) => r.condition === 'blank_thought' && r.reward === 0);
    expect(await page.locator('#sample-count').textContent()).toBe(`${blankZero.length} matching sample${blankZero.length === 1 ? '' : 's'}`);
    expect(await page.locator('#samples tr.row').count()).toBe(blankZero.length);

    // One sample, whole, and the same prefix under the other conditions.
    const r = finished.find((x) => x.condition === 'same_arm_swapped_thought')!;
    await page.goto(`${base}/runs/view-done/samples/${r.arm}/${r.condition}/${r.prefixId}/${r.sample}`);
    const row = (await new FileRunStore(join(out, 'view-done')).runConfig()).dataset.rows!.find((x) => x.id === r.prefixId)!;
    expect(await page.locator('#sv-prefix').textContent()).toBe(row.prefix);
    expect(await page.locator('#sv-thought').textContent()).toBe(r.thought);
    expect(await page.locator('#sv-suffix').textContent()).toBe(r.suffix);
    expect(await page.locator('#sv-truth').textContent()).toBe(row.suffix);
    expect(await page.locator('#sv-judge').textContent()).toBe(r.judge.raw);
    expect(await page.locator('#sv-others li').evaluateAll((li) => li.map((x) => x.getAttribute('data-condition')))).toEqual(['normal_model_thought', 'blank_thought']);
    await page.click('#sv-others li[data-condition="normal_model_thought"] a');
    const normal = finished.find((x) => x.condition === 'normal_model_thought' && x.prefixId === r.prefixId && x.sample === r.sample)!;
    expect(await page.locator('#sample-title').textContent()).toBe(`${r.arm} · normal_model_thought · ${r.prefixId} · sample ${r.sample}`);
    expect(await page.locator('#sv-suffix').textContent()).toBe(normal.suffix);
  } finally {
    await page.close();
  }
}, 120_000);

test('a running run: its status, its progress and exactly the samples stored so far', async () => {
  const api = (await get('/api/runs/view-running/samples?pageSize=1000')).body as { status: string; stored: number; planned: number; matching: number; samples: SampleRecord[] };
  expect(api).toMatchObject({ status: 'RUNNING', stored: runningStored, planned: runningPlanned, matching: runningStored });
  const keys = storedKeys(join(out, 'view-running'), 'think_base');
  expect(new Set(api.samples.map((s) => `${s.prefixId}/${s.sample}/${s.condition}`))).toEqual(keys);
  const page = await newPage();
  try {
    // A running run's page reloads itself (no script: the Refresh header); a finished one's does not.
    expect((await fetch(`${base}/runs/view-running`)).headers.get('refresh')).toBe('15');
    expect((await fetch(`${base}/runs/view-done`)).headers.get('refresh')).toBeNull();
    await page.goto(`${base}/runs/view-running`);
    expect(await page.locator('#run-status .status').textContent()).toBe('running');
    expect(await page.locator('#run-refresh').count()).toBe(1);
    expect(await page.locator('#run-progress').textContent()).toBe(`${runningStored} / ${runningPlanned}`);
    await page.goto(`${base}/runs/view-running/samples`);
    expect(await page.locator('#sample-count').textContent()).toBe(`${runningStored} matching samples`);
  } finally {
    await page.close();
  }
}, 60_000);

test('the 10x run: paging through every sample in the browser gives samples.jsonl, in its order', async () => {
  expect(big).toHaveLength(20_480);
  const page = await newPage();
  try {
    await page.goto(`${base}/runs/view-10x/samples?pageSize=1000`);
    expect(await page.locator('#sample-count').textContent()).toBe('20480 matching samples');
    const seen: string[] = [];
    for (let p = 1; ; p++) {
      expect(await page.locator('#page-of').first().textContent()).toBe(`page ${p} of 21`);
      seen.push(...(await rowKeys(page)));
      if ((await page.locator('#page-next').count()) === 0) break;
      // The click returns once the next page starts to arrive: its rows are read only after it has loaded whole.
      await Promise.all([page.waitForURL((u) => u.searchParams.get('page') === String(p + 1), { waitUntil: 'load' }), page.locator('#page-next').first().click()]);
    }
    expect(seen).toHaveLength(big.length);
    expect(seen).toEqual(big.map(key));
  } finally {
    await page.close();
  }
}, 180_000);

test('a search returns exactly the samples whose thought or suffix holds every term', async () => {
  // A word of one suffix that several, but not all, samples share; and a pair of terms.
  const words = big[5].suffix.toLowerCase().split(/\s+/);
  const expected = (terms: string[]) => big.filter((r) => terms.every((w) => `${r.thought}\u0000${r.suffix}`.toLowerCase().includes(w))).map(key);
  const term = words.find((w) => w.length > 5 && expected([w]).length > 10 && expected([w]).length < 5000)!;
  expect(term).toBeDefined();
  const pair = [term, words.find((w) => w !== term && w.length > 4)!];
  for (const terms of [[term], pair]) {
    const want = expected(terms);
    const got = (await get(`/api/runs/view-10x/samples?pageSize=1000&q=${encodeURIComponent(terms.join(' '))}`)).body as { matching: number; pages: number; samples: SampleRecord[] };
    expect(got.matching).toBe(want.length);
    const all = [...got.samples];
    for (let p = 2; p <= got.pages; p++) all.push(...((await get(`/api/runs/view-10x/samples?pageSize=1000&page=${p}&q=${encodeURIComponent(terms.join(' '))}`)).body as { samples: SampleRecord[] }).samples);
    expect(all.map(key)).toEqual(want);
  }
  const page = await newPage();
  try {
    await page.goto(`${base}/runs/view-10x/samples`);
    await page.selectOption('#f-arm', 'think_phase3');
    await page.fill('#f-q', term);
    await page.click('#f-apply');
    const want = big.filter((r) => r.arm === 'think_phase3' && `${r.thought}\u0000${r.suffix}`.toLowerCase().includes(term));
    expect(await page.locator('#sample-count').textContent()).toBe(`${want.length} matching sample${want.length === 1 ? '' : 's'}`);
    expect(await page.locator('#samples tr.row').count()).toBe(Math.min(100, want.length));
  } finally {
    await page.close();
  }
}, 120_000);

test('bad input gets a clear 4xx naming the parameter, and the server goes on', async () => {
  const cases: [string, number, RegExp][] = [
    ['/runs/no-such-run', 404, /no run "no-such-run"/],
    ['/api/runs/no-such-run/samples', 404, /no run "no-such-run"/],
    ['/runs/view-done/samples?page=0', 400, /page: must be a whole number from 1/],
    ['/api/runs/view-done/samples?page=abc', 400, /page: must be a whole number/],
    ['/api/runs/view-done/samples?page=999', 400, /page: 999 is past the last page \(1\)/],
    ['/api/runs/view-done/samples?pageSize=5000', 400, /pageSize: must be a whole number from 1 to 1000/],
    ['/api/runs/view-done/samples?arm=nope', 400, /arm: no arm "nope" in this run; use one of think_base/],
    ['/api/runs/view-done/samples?condition=generic_thought', 400, /condition: no condition "generic_thought"/],
    ['/api/runs/view-done/samples?prefix=zzz', 400, /prefix: no prefix id "zzz"/],
    ['/api/runs/view-done/samples?reward=2', 400, /reward: must be 1, 0 or invalid/],
    ['/api/runs/view-done/samples?invalid=maybe', 400, /invalid: must be true/],
    ['/api/runs/view-done/samples?colour=red', 400, /unknown parameter "colour"/],
    ['/api/runs/view-done/samples?arm=think_base&arm=think_base', 400, /arm: given more than once/],
    ['/api/runs/view-done/samples/think_base/blank_thought/nope/0', 404, /no stored sample/],
    ['/api/runs/view-done/samples/think_base/blank_thought/x/k', 400, /sample: must be a whole number/],
    ['/runs/view-done/samples/%E0%A4%A', 400, /broken %-escape/],
    ['/nowhere', 404, /no page at \/nowhere/],
  ];
  for (const [path, status, message] of cases) {
    const r = await get(path);
    expect({ path, status: r.status }).toEqual({ path, status });
    // A page's message as the reader sees it (HTML escapes undone), or the JSON error.
    const said = r.body ? (r.body as { error: string }).error : r.text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    expect(said).toMatch(message);
  }
  // A request addressed to another name (DNS rebinding) is refused.
  const rebound = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(`${base}/api/runs`, { headers: { host: 'attacker.example:80' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end();
  });
  expect(rebound.status).toBe(403);
  expect(rebound.text).toMatch(/must be addressed to 127\.0\.0\.1/);
  const post = await fetch(`${base}/api/runs`, { method: 'POST', body: '{}' });
  expect(post.status).toBe(405);
  expect(await post.text()).toMatch(/read-only/);
  expect((await get('/api/runs')).status).toBe(200);
  expect(view.exitCode).toBeNull();
}, 60_000);

test('view on the command line: an unknown run id or a bad port exits 2 naming it, before anything listens', async () => {
  const [unknown, port] = await Promise.all([runCli(['view', 'view-done', 'no-such-run', '--port', '0'], { address: t.env.address }), runCli(['view', '--port', 'eighty'], { address: t.env.address })]);
  expect({ status: unknown.status, out: show(unknown) }).toMatchObject({ status: 2 });
  expect(unknown.stderr).toContain('run no-such-run not found');
  expect(unknown.stdout).not.toContain('http://');
  expect({ status: port.status, out: show(port) }).toMatchObject({ status: 2 });
  expect(port.stderr).toContain('--port: must be a port number from 0 to 65535');
}, 60_000);

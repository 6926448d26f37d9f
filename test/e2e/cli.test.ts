/**
 * End to end through the CLI: `node bin/thought-probe.js ...` as child processes against a real Temporal dev
 * server, a real simulated OpenAI-compatible server (HTTP), and a real worker process.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startSimServer, type SimServer } from '../../src/sim';
import type { ProbeRunResult } from '../../src/workflows/api';
import { startTemporal, temporalBinary } from '../helpers/temporal';
import { heldoutRows, tempDir } from '../helpers/configs';
import { jsonl, runCli, runCommand, show, smokeInput, startWorkerProcess, writeConfig, ROOT, type WorkerProcess } from '../helpers/e2e-cli';

describe('config commands', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('tp-e2e-config-');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('config check lists every problem of a broken config with exit 2, and passes examples/smoke.yaml', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'name: broken',
        'seed: -1',
        'dataset:',
        '  path: ' + JSON.stringify(join(ROOT, 'examples/data/heldout.jsonl')),
        '  limit: 4',
        'arms:',
        '  - name: think_base',
        '    baseURL: "http://127.0.0.1:8000/v1"',
        '    apiKey: sk-not-here',
        'judge:',
        '  baseURL: "http://127.0.0.1:8000/v1"',
        '  modle: qwen-judge',
        '',
      ].join('\n'),
    );
    const [broken, smoke] = await Promise.all([runCli(['config', 'check', bad]), runCli(['config', 'check', 'examples/smoke.yaml'])]);
    expect({ status: broken.status, out: show(broken) }).toMatchObject({ status: 2 });
    const problemPaths = broken.stderr
      .split('\n')
      .map((l) => /^\s+(\S+):/.exec(l)?.[1])
      .filter(Boolean);
    expect(problemPaths).toEqual(expect.arrayContaining(['judge.modle', 'seed', 'arms[0].apiKey', 'arms[0].model']));
    expect(broken.stderr).toContain('did you mean "model"');
    expect({ status: smoke.status, out: show(smoke) }).toMatchObject({ status: 0 });
    expect(smoke.stdout).toContain('ok');
  });

  test('config resolve puts the rows into the store once and prints their reference', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const file = writeConfig(dir, smokeInput('http://127.0.0.1:9/v1', out));
    const [a, b] = [await runCli(['config', 'resolve', file]), await runCli(['config', 'resolve', file])];
    expect({ status: a.status, out: show(a) }).toMatchObject({ status: 0 });
    const c = JSON.parse(a.stdout) as { dataset: { ref: string; count: number; rows?: unknown; limit: number } };
    expect(c.dataset).toMatchObject({ ref: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), count: 4, limit: 4 });
    expect(c.dataset.rows).toBeUndefined();
    expect(b.stdout).toBe(a.stdout);
    // Stored once, whole, under its hash.
    const stored = readdirSync(join(out, 'datasets'));
    expect(stored).toEqual([`${c.dataset.ref.slice(7)}.jsonl`]);
    expect(jsonl<{ id: string }>(readFileSync(join(out, 'datasets', stored[0]!), 'utf8')).map((r) => r.id)).toEqual(heldoutRows().slice(0, 4).map((x) => x.id));
  });

  test('config resolve --inline prints the resolved config: 4 rows inline and the defaults applied', async () => {
    const r = await runCli(['config', 'resolve', '--inline', 'examples/smoke.yaml']);
    expect({ status: r.status, out: show(r) }).toMatchObject({ status: 0 });
    const c = JSON.parse(r.stdout) as { seed: number; generation: { temperature: number }; dataset: { rows: { id: string; prefix: string; suffix: string }[]; path?: string } };
    expect(c.dataset.rows).toHaveLength(4);
    expect(c.dataset.rows.map((x) => x.id)).toEqual(heldoutRows().slice(0, 4).map((x) => x.id));
    expect(c.dataset.rows.every((x) => x.prefix.length > 0 && x.suffix.length > 0)).toBe(true);
    expect(c.dataset.path).toBeUndefined();
    expect(c.seed).toBe(4337);
    expect(c.generation.temperature).toBe(1);
  });
});

describe('lint guard on replayed code', () => {
  // ESLint's Node API with lintText, so nothing is written to src/. It runs in a child process because it loads
  // eslint.config.mjs with a dynamic import, which jest's VM refuses. The probe path is not in the TS project, so
  // the typed parser options are switched off for it (no-restricted-imports needs no type information).
  const fsImport = "import { readFileSync } from 'fs';\nexport const x = readFileSync;\n";
  const nodeFsImport = "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n";
  const openaiImport = "import OpenAI from 'openai';\nexport const x = OpenAI;\n";
  const restricted: [string, string][] = [];
  for (const dir of ['src/workflows', 'src/experiment']) for (const text of [fsImport, nodeFsImport, openaiImport]) restricted.push([dir, text]);
  const allowed: [string, string][] = [fsImport, nodeFsImport, openaiImport].map((text) => ['src/activities', text]);
  type Message = { ruleId: string | null; severity: number; fatal?: boolean; message: string };
  let results: Message[][];

  beforeAll(async () => {
    const cases = [...restricted, ...allowed].map(([dir, text]) => ({ filePath: join(ROOT, dir, '__lint_probe.ts'), text }));
    const script = `
      const { ESLint } = require('eslint');
      (async () => {
        const eslint = new ESLint({
          cwd: process.cwd(),
          overrideConfig: {
            files: ['**/__lint_probe.ts'],
            languageOptions: { parserOptions: { projectService: false, project: null } },
            rules: { '@typescript-eslint/no-floating-promises': 'off' },
          },
        });
        const out = [];
        for (const c of JSON.parse(process.argv[1])) out.push((await eslint.lintText(c.text, { filePath: c.filePath }))[0].messages);
        process.stdout.write(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = await runCommand(process.execPath, ['-e', script, JSON.stringify(cases)]);
    if (r.status !== 0) throw new Error(show(r));
    results = JSON.parse(r.stdout) as Message[][];
    expect(results.flat().filter((m) => m.fatal)).toEqual([]);
  }, 60_000);

  const restrictedErrors = (i: number) => results[i]!.filter((m) => m.ruleId === 'no-restricted-imports' && m.severity === 2);

  test.each(restricted.map(([dir, text], i) => [dir, text.split('\n')[0], i] as const))('%s: "%s" is a lint error', (_dir, _line, i) => {
    expect(restrictedErrors(i).length).toBeGreaterThan(0);
  });

  test.each(allowed.map(([dir, text], i) => [dir, text.split('\n')[0], restricted.length + i] as const))('%s: "%s" is allowed', (_dir, _line, i) => {
    expect(results[i]).toEqual([]);
  });
});

describe('runs through the CLI against Temporal and a worker process', () => {
  let env: TestWorkflowEnvironment;
  let slowSim: SimServer;
  let fastSim: SimServer;
  let worker: WorkerProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('tp-e2e-cli-');
    const rows = heldoutRows();
    [env, slowSim, fastSim] = await Promise.all([startTemporal(), startSimServer({ port: 0, rows, latencyMs: 300 }), startSimServer({ port: 0, rows })]);
    worker = await startWorkerProcess(env.address);
  }, 300_000);

  afterAll(async () => {
    await worker?.stop();
    await Promise.all([slowSim?.close(), fastSim?.close()]);
    await env?.teardown();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test('run --detach prints the id; status and result report it; a second run of the same config is refused or numbered', async () => {
    const outDir = join(dir, 'detach-out');
    // Two arm slots at 300 ms a request keep the run going for several seconds.
    const config = writeConfig(dir, smokeInput(slowSim.url, outDir, { name: 'smoke-e2e', armConcurrency: 2 }), 'detach.yaml');
    const first = await runCli(['run', config, '--detach'], { address: env.address });
    expect({ status: first.status, out: show(first) }).toMatchObject({ status: 0 });
    const runId = /started run (\S+)/.exec(first.stdout)?.[1];
    expect(runId).toBe('smoke-e2e');

    const second = await runCli(['run', config, '--detach'], { address: env.address });
    const firstStillRunning = (await env.client.workflow.getHandle(runId!).describe()).status.name === 'RUNNING';
    let secondId: string | undefined;
    if (second.status === 2) {
      expect(second.stderr).toContain('already running');
    } else {
      // The first run was over before the second asked: the second takes the next free id.
      expect({ status: second.status, firstStillRunning, out: show(second) }).toMatchObject({ status: 0, firstStillRunning: false });
      secondId = /started run (\S+)/.exec(second.stdout)?.[1];
      expect(secondId).toBe('smoke-e2e-2');
    }

    const status = await runCli(['status', runId!], { address: env.address });
    expect({ status: status.status, out: show(status) }).toMatchObject({ status: 0 });
    expect(status.stdout).toContain(`run ${runId}`);
    expect(status.stdout).toContain('think_base');

    const result = await runCli(['result', runId!], { address: env.address });
    expect({ status: result.status, out: show(result) }).toMatchObject({ status: 0 });
    expect(result.stdout).toContain('Main Metrics');
    // Every artifact is listed, report.html included.
    for (const f of ['samples.jsonl', 'summary.json', 'report.md', 'report.html', 'config.json', 'swap.json']) expect(result.stdout).toContain(join(outDir, runId!, f));
    const records = jsonl(readFileSync(join(outDir, runId!, 'samples.jsonl'), 'utf8'));
    expect(records).toHaveLength(4 * 2 * 3);

    // export writes the same artifacts from the store, elsewhere.
    const exported = join(tempDir(), 'export');
    const ex = await runCli(['export', runId!, '--out', exported], { address: env.address });
    expect({ status: ex.status, out: show(ex) }).toMatchObject({ status: 0 });
    for (const f of ['samples.jsonl', 'summary.json', 'report.md', 'swap.json', 'config.json']) {
      expect(readFileSync(join(exported, f), 'utf8')).toBe(readFileSync(join(outDir, runId!, f), 'utf8'));
    }
    expect(readFileSync(join(exported, 'report.html'), 'utf8')).toContain('<svg');
    const missing = await runCli(['export', 'no-such-run', '--out', exported], { address: env.address });
    expect(missing.status).toBe(2);

    if (secondId) await env.client.workflow.getHandle(secondId).result();
  }, 90_000);

  test('temporal workflow start with config resolve output runs the same experiment as thought-probe run', async () => {
    const outDir = join(dir, 'eq-out');
    const config = writeConfig(dir, smokeInput(fastSim.url, outDir, { name: 'eq' }), 'eq.yaml');
    const resolved = await runCli(['config', 'resolve', config]);
    expect({ status: resolved.status, out: show(resolved) }).toMatchObject({ status: 0 });
    const runJson = join(dir, 'run.json');
    writeFileSync(runJson, resolved.stdout);

    const started = await runCommand(temporalBinary(), [
      'workflow', 'start', '--address', env.address, '--namespace', 'default', '--type', 'probeRun',
      '--task-queue', 'thought-probe', '--workflow-id', 'eq-a', '--input-file', runJson,
    ]);
    expect({ status: started.status, out: show(started) }).toMatchObject({ status: 0 });
    const a = (await env.client.workflow.getHandle('eq-a').result()) as ProbeRunResult;

    const b = await runCli(['run', config, '--id', 'eq-b'], { address: env.address });
    expect({ status: b.status, out: show(b) }).toMatchObject({ status: 0 });
    expect(b.stdout).toContain('Main Metrics');

    expect(a.artifacts.samples).toBe(join(outDir, 'eq-a', 'samples.jsonl'));
    type Rec = { arm: string; condition: string; prefixId: string; sample: number; reward: number | null; thought: string; suffix: string; runId: string };
    const byKey = (file: string) => {
      const recs = jsonl<Rec>(readFileSync(file, 'utf8'));
      const m = new Map(recs.map((r) => [`${r.arm}|${r.condition}|${r.prefixId}|${r.sample}`, { reward: r.reward, thought: r.thought, suffix: r.suffix }]));
      expect(m.size).toBe(recs.length);
      return m;
    };
    const recA = byKey(join(outDir, 'eq-a', 'samples.jsonl'));
    const recB = byKey(join(outDir, 'eq-b', 'samples.jsonl'));
    expect(recA.size).toBe(4 * 2 * 3);
    expect([...recB.keys()].sort()).toEqual([...recA.keys()].sort());
    for (const [k, v] of recA) expect({ k, ...recB.get(k) }).toEqual({ k, ...v });
  }, 90_000);
});

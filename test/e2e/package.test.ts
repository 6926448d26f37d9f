/**
 * The package as a user gets it: `npm pack`, the tarball installed into an empty folder with npm (from npm's
 * cache, which `npm ci` filled), then `npx thought-probe` there: --help, config check on a shipped example,
 * and the demo on a small config against a Temporal dev server started here. Nothing from this checkout is
 * used by the installed CLI except the temporal binary on PATH.
 *
 * The tarball packs the dist/ that `npm run build` left (npm test builds first); `--ignore-scripts` keeps
 * `npm pack` from rebuilding dist/ under other test files that run the CLI meanwhile.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTemporal, temporalBinary } from '../helpers/temporal';
import { tempDir } from '../helpers/configs';
import { jsonl, runCli, runCommand, show, ROOT, type CliResult } from '../helpers/e2e-cli';

let env: TestWorkflowEnvironment;
let dir: string;
let installDir: string;
let packed: { filename: string; files: { path: string }[] };
let installed: string;

/** The environment of the children: none of this checkout's npm context or bins, the temporal CLI on PATH. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: '1', FORCE_COLOR: '0' };
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !/^npm_config_(cache|registry|userconfig)$/i.test(k)) continue;
    if (k === 'INIT_CWD' || k.startsWith('TEMPORAL_')) continue;
    env[k] = v;
  }
  const path = (process.env.PATH ?? '').split(delimiter).filter((p) => p && !p.startsWith(join(ROOT, 'node_modules')));
  env.PATH = [dirname(temporalBinary()), ...path].join(delimiter);
  return { ...env, ...extra };
}

/** Runs a command in a folder without blocking this process's event loop. */
function sh(command: string, args: string[], cwd: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return runCommand(command, args, { cwd, env: opts.env ?? childEnv(), timeoutMs: opts.timeoutMs ?? 60_000 });
}

/** `npx thought-probe ...` in the install folder; `--no` so a missing bin fails instead of being fetched. */
function npx(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return sh('npx', ['--no', '--', 'thought-probe', ...args], installDir, opts);
}

async function packAndInstall(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const pack = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  if (pack.status !== 0) throw new Error(`npm pack failed\n${show(pack)}`);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;
  writeFileSync(join(installDir, 'package.json'), `${JSON.stringify({ name: 'tp-package-test', version: '1.0.0', private: true }, null, 2)}\n`);
  const install = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed.filename)], installDir, { timeoutMs: 240_000 });
  if (install.status !== 0) throw new Error(`npm install of the tarball failed\n${show(install)}`);
  installed = join(installDir, 'node_modules', 'thought-probe');
}

beforeAll(async () => {
  dir = tempDir('tp-e2e-pack-');
  installDir = tempDir('tp-e2e-install-');
  [env] = await Promise.all([startTemporal(), packAndInstall()]);
}, 300_000);

afterAll(async () => {
  await env?.teardown();
  for (const d of [dir, installDir]) if (d) rmSync(d, { recursive: true, force: true });
}, 60_000);

test('the tarball holds the compiled CLI, the examples, the schema and the temporal scripts, and no sources', () => {
  const files = packed.files.map((f) => f.path);
  expect(files).toEqual(
    expect.arrayContaining([
      'package.json',
      'README.md',
      'bin/thought-probe.js',
      'dist/cli/main.js',
      'dist/cli/commands.js',
      'dist/workflows/index.js',
      'examples/demo.yaml',
      'examples/data/heldout.jsonl',
      'infra/temporal/ensure-cli.sh',
      'infra/temporal/start-dev.sh',
      'thought-probe.schema.json',
    ]),
  );
  expect(files.filter((f) => /^(src|test|bench|\.tools|\.state|runs|node_modules)\//.test(f) || f.endsWith('.ts'))).toEqual([]);
});

test('it installs without dev dependencies, and npx thought-probe --help and config check run from dist', async () => {
  for (const dev of ['tsx', 'typescript', '@temporalio/testing', 'jest']) expect({ dev, present: existsSync(join(installDir, 'node_modules', dev)) }).toEqual({ dev, present: false });
  const [help, check, here] = await Promise.all([npx(['--help']), npx(['config', 'check', join(installed, 'examples', 'demo.yaml')]), runCli(['--help'])]);
  expect({ status: help.status, out: show(help) }).toMatchObject({ status: 0 });
  expect(help.stdout).toBe(here.stdout);
  expect({ status: check.status, out: show(check) }).toMatchObject({ status: 0 });
  expect(check.stdout).toContain('demo.yaml: ok (4 arms, 32 prefixes, 4 samples, 4 conditions)');
});

test('config check and --help load neither the Temporal SDK nor openai nor vega', async () => {
  const loaded = async (args: string[]) => {
    const script = `process.argv = [process.argv[0], 'thought-probe', ...${JSON.stringify(args)}];
process.stdout.write = () => true;
process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache))));
require(${JSON.stringify(join(installed, 'dist', 'cli', 'main.js'))});`;
    const r = await sh(process.execPath, ['-e', script], installDir);
    const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
    expect({ found: !!line, out: show(r) }).toMatchObject({ found: true });
    return (JSON.parse(line!.slice('LOADED '.length)) as string[]).filter((f) => /node_modules\/(@temporalio|openai|vega|cli-progress)/.test(f.replace(installed, '')));
  };
  expect(await loaded(['--help'])).toEqual([]);
  expect(await loaded(['config', 'check', join(installed, 'examples', 'demo.yaml')])).toEqual([]);
});

test('npx thought-probe demo runs a small config end to end from the installed package', async () => {
  const outDir = join(installDir, 'runs');
  const config = join(installDir, 'small.yaml');
  // The demo's shape, smaller: 2 arms x 4 conditions x 4 prefixes x 2 samples = 64 judged suffixes.
  const demo = readFileSync(join(installed, 'examples', 'demo.yaml'), 'utf8');
  expect(demo).toContain('path: data/heldout.jsonl');
  writeFileSync(
    config,
    [
      'name: pkg-demo',
      'seed: 4337',
      `dataset: { path: ${JSON.stringify(join(installed, 'examples', 'data', 'heldout.jsonl'))}, limit: 4 }`,
      'samplesPerPrefix: 2',
      'conditions: [normal_model_thought, blank_thought, generic_thought, same_arm_swapped_thought]',
      'arms:',
      '  - { name: think_base, baseURL: "http://127.0.0.1:8000/v1", model: think_base, maxConcurrency: 8 }',
      '  - { name: think_phase3, baseURL: "http://127.0.0.1:8000/v1", model: think_phase3, maxConcurrency: 8 }',
      'judge: { baseURL: "http://127.0.0.1:8000/v1", model: qwen-judge, maxConcurrency: 8 }',
      `output: { dir: ${JSON.stringify(outDir)} }`,
      '',
    ].join('\n'),
  );
  const r = await npx(['demo', '--config', config, '--latency-ms', '0'], { env: childEnv({ TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' }), timeoutMs: 120_000 });
  expect({ status: r.status, out: show(r) }).toMatchObject({ status: 0 });
  expect(r.stdout).toContain('Main Metrics');
  expect(r.stderr).toContain('SIMULATION');
  const runDir = /artifacts in (\S+):/.exec(r.stdout)?.[1];
  expect({ runDir, out: show(r) }).toMatchObject({ runDir: expect.stringContaining(join(outDir, 'pkg-demo-')) });
  expect(jsonl(readFileSync(join(runDir!, 'samples.jsonl'), 'utf8'))).toHaveLength(2 * 4 * 4 * 2);
  // The report's path, and next to it the command that serves every sample of the run.
  const runId = runDir!.slice(outDir.length + 1);
  expect(r.stdout).toContain(`report: ${join(runDir!, 'report.html')}\nbrowse every sample (read-only, http://127.0.0.1:8484): npx thought-probe view ${runId}\n`);
  // report.html needs vega, an ES module loaded with a real dynamic import from the installed dist/.
  expect(readFileSync(join(runDir!, 'report.html'), 'utf8')).toContain('<svg');
}, 150_000);

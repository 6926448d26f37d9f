// Start-up time of the CLI: `thought-probe --help` and `thought-probe config check examples/demo.yaml`, each
// as a fresh process, through the built bin (dist/, what `npx thought-probe` runs) and, side by side, through
// tsx on the TypeScript sources (how the bin ran before dist/). Runs alternate; medians of --runs (default 9)
// after one warm-up each. `--baseline DIR` adds a third column: the bin of another checkout (e.g. a `git
// archive` of an older commit with node_modules linked in). Not part of the test suite: `npm run bench:cli`
// (which builds first).
// Also lists the packages each command loads, so a heavy import creeping into a light command shows up here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(__dirname, '..');
const BIN = join(root, 'bin', 'thought-probe.js');
const MAIN_TS = join(root, 'src', 'cli', 'main.ts');
const MAIN_JS = join(root, 'dist', 'cli', 'main.js');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function runsArg(): number {
  const n = Number(arg('runs') ?? 9);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--runs: expected a whole number of at least 1, got "${arg('runs')}"`);
  return n;
}

const baseline = arg('baseline');

const commands: { name: string; args: string[] }[] = [
  { name: 'thought-probe --help', args: ['--help'] },
  { name: 'thought-probe config check examples/demo.yaml', args: ['config', 'check', 'examples/demo.yaml'] },
];

const paths: { name: string; argv: (args: string[]) => string[] }[] = [
  { name: 'node bin/thought-probe.js (dist)', argv: (args) => [BIN, ...args] },
  { name: 'node -r tsx/cjs src/cli/main.ts', argv: (args) => ['-r', 'tsx/cjs', MAIN_TS, ...args] },
  ...(baseline ? [{ name: `baseline: node ${join(baseline, 'bin', 'thought-probe.js')}`, argv: (args: string[]) => [join(baseline, 'bin', 'thought-probe.js'), ...args] }] : []),
];

/** Wall time of one fresh process, in ms; throws if it fails. */
function timeOnce(argv: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The npm packages a command loads from dist (names only, in load order). */
function packagesLoaded(args: string[]): string[] {
  const script = [
    `process.argv = [process.argv[0], 'thought-probe', ...${JSON.stringify(args)}];`,
    `process.stdout.write = () => true;`,
    `process.on('exit', () => {`,
    `  const names = Object.keys(require.cache).filter((f) => f.includes('/node_modules/')).map((f) => { const p = f.split('/node_modules/').pop().split('/'); return p[0].startsWith('@') ? p[0] + '/' + p[1] : p[0]; });`,
    `  process.stderr.write(JSON.stringify([...new Set(names)]));`,
    `});`,
    `require(${JSON.stringify(MAIN_JS)});`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  return JSON.parse(r.stderr.trim().split('\n').pop() ?? '[]') as string[];
}

function main(): void {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm run bench:cli does)`);
  const runs = runsArg();
  const times = new Map<string, number[]>();
  const key = (c: number, p: number) => `${c}/${p}`;
  for (let c = 0; c < commands.length; c++) for (let p = 0; p < paths.length; p++) timeOnce(paths[p]!.argv(commands[c]!.args)); // warm-up
  for (let i = 0; i < runs; i++) {
    for (let c = 0; c < commands.length; c++) {
      for (let p = 0; p < paths.length; p++) {
        const k = key(c, p);
        times.set(k, [...(times.get(k) ?? []), timeOnce(paths[p]!.argv(commands[c]!.args))]);
      }
    }
    process.stderr.write(`round ${i + 1}/${runs}\n`);
  }
  const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const rows = commands.map((cmd, c) => {
    const cells = paths.map((_p, p) => {
      const xs = times.get(key(c, p))!;
      return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs };
    });
    return { command: cmd.name, dist: cells[0]!, tsx: cells[1]!, baseline: cells[2], packages: packagesLoaded(cmd.args) };
  });
  process.stdout.write(`\nmedians of ${runs} fresh processes each (min–max); ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)} at the end\n\n`);
  process.stdout.write(`| command | ${paths.map((p) => p.name).join(' | ')} | target (dist) | packages loaded (dist) |\n| --- |${' ---: |'.repeat(paths.length)} --- | --- |\n`);
  for (const r of rows) {
    const cell = (x: { median: number; min: number; max: number }) => `${fmt(x.median)} (${fmt(x.min)}–${fmt(x.max)})`;
    const cells = [r.dist, r.tsx, ...(r.baseline ? [r.baseline] : [])].map(cell).join(' | ');
    process.stdout.write(`| \`${r.command}\` | ${cells} | < 0.30 s: ${r.dist.median < 300 ? 'met' : 'NOT met'} | ${r.packages.join(', ')} |\n`);
  }
  const heavy = rows.flatMap((r) => r.packages.filter((p) => /^@temporalio\/|^openai$|^vega/.test(p)).map((p) => `${r.command} loads ${p}`));
  if (heavy.length) process.stdout.write(`\nwarning: ${heavy.join('; ')}\n`);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const out = { machine: `${cpus().length} cores`, loadAverage: loadavg(), runs, baseline: baseline ?? null, rows };
  writeFileSync(join(root, 'bench/results/cli-start.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main();

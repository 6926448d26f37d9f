/**
 * End to end: `thought-probe compare RUN_A RUN_B` on two small generated samples files (one given as a run
 * directory, one as a samples.jsonl): the markdown table on stdout, compare.json + compare.md with --out,
 * and exit code 2 naming the argument for bad inputs, with nothing written.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, show } from '../helpers/e2e-cli';

const N = 'normal_model_thought';
const BLANK = 'blank_thought';

/** samples.jsonl lines for one arm and condition from `{ prefixId: rewards }`. */
function lines(runId: string, arm: string, condition: string, rewards: Record<string, (0 | 1 | null)[]>): string[] {
  return Object.entries(rewards).flatMap(([prefixId, rs]) =>
    rs.map((reward, sample) =>
      JSON.stringify({ runId, arm, condition, prefixId, sample, thought: condition === BLANK ? '' : 'a thought', suffix: 'a suffix', reward, judge: { valid: reward !== null, raw: reward === null ? 'no idea' : `{"score": ${reward}}`, attempts: 1 } }),
    ),
  );
}

let tmp: string;
let runA: string;
let runB: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'thought-probe-compare-'));
  // A: think_base before training (plus an arm B does not have); B: after training, in a run directory.
  runA = join(tmp, 'before.jsonl');
  writeFileSync(
    runA,
    [
      ...lines('before', 'think_base', N, { p1: [0, 1], p2: [0, 0] }),
      ...lines('before', 'think_base', BLANK, { p1: [0, 0], p2: [1, 1] }),
      ...lines('before', 'only_a', N, { p1: [1, 1], p2: [1, 1] }),
    ].join('\n') + '\n',
  );
  runB = join(tmp, 'after');
  mkdirSync(runB);
  writeFileSync(
    join(runB, 'samples.jsonl'),
    [...lines('after', 'think_base', N, { p1: [1, 1], p2: [1, 0], p3: [1, 1] }), ...lines('after', 'think_base', BLANK, { p1: [0, 0], p2: [1, null] })].join('\n') + '\n',
  );
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('compares the shared arm per condition and writes compare.json and compare.md with --out', async () => {
  const out = join(tmp, 'cmp');
  const r = await runCli(['compare', runA, runB, '--out', out]);
  if (r.status !== 0) throw new Error(show(r));
  // normal: A prefix means [.5, 0], B [1, .5] (p3 only in B): B − A = +.5 on both prefixes.
  expect(r.stdout).toContain('## `think_base`');
  expect(r.stdout).toContain('| `normal_model_thought` | 2 | 0.2500 | 0.7500 | +0.5000 | [+0.5000, +0.5000] | 0.5000 | 2 / 0 / 0 | 0.5000 | 0 / 1 | 1.0000 |');
  // blank: A [0, 1], B [0, 1] (p2's invalid judgment left out): no difference, every prefix a tie.
  expect(r.stdout).toContain('| `blank_thought` | 2 | 0.5000 | 0.5000 | +0.0000 | [+0.0000, +0.0000] | 1.0000 | 0 / 0 / 2 | 1.0000 | 0 / 0 | 1.0000 |');
  expect(r.stdout).not.toContain('only_a');
  expect(r.stdout).toContain(`wrote ${join(out, 'compare.json')}, ${join(out, 'compare.md')}`);
  expect(readdirSync(out).sort()).toEqual(['compare.json', 'compare.md']);
  const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
  expect(json.a).toEqual({ path: runA, samples: runA, runIds: ['before'] });
  expect(json.b).toEqual({ path: runB, samples: join(runB, 'samples.jsonl'), runIds: ['after'] });
  expect(json.seed).toBe(4337);
  const normal = json.comparisons[0].conditions[0];
  expect(normal).toMatchObject({ condition: N, prefixesA: 2, prefixesB: 3, sharedPrefixes: 2, meanA: 0.25, meanB: 0.75, diff: 0.5, ci: [0.5, 0.5], wins: 2, losses: 0, ties: 0 });
  expect(normal.rewardMeanB).toBeCloseTo(5 / 6, 12);
  expect(readFileSync(join(out, 'compare.md'), 'utf8')).toBe(r.stdout.slice(0, r.stdout.indexOf('\nwrote ')));
});

test('--arm-a and --arm-b compare two different arms', async () => {
  const r = await runCli(['compare', runA, runB, '--arm-a', 'only_a', '--arm-b', 'think_base']);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('## `only_a` (A) vs `think_base` (B)');
  // only_a normal [1, 1] vs think_base normal [1, .5]: B − A = [0, −.5].
  expect(r.stdout).toContain('| `normal_model_thought` | 2 | 1.0000 | 0.7500 | -0.2500 |');
  expect(r.stdout).toContain('Only in B (not compared): `blank_thought`.');
});

test.each([
  [['compare', 'MISSING_A', 'RUN_B_DIR'], /RUN_A: .*MISSING_A does not exist/],
  [['compare', 'RUN_A_FILE', 'EMPTY_DIR'], /RUN_B: .* is a directory without samples\.jsonl/],
  [['compare', 'RUN_A_FILE', 'BAD_FILE'], /RUN_B: malformed samples file.*line 2: not valid JSON/s],
  [['compare', 'RUN_A_FILE', 'RUN_B_DIR', '--arm', 'only_a'], /--arm: arm "only_a" is not in RUN_B/],
  [['compare', 'RUN_A_FILE', 'RUN_B_DIR', '--arm-a', 'think_base'], /error: --arm-b is required with --arm-a/],
  [['compare', 'RUN_A_FILE', 'RUN_B_DIR', '--arm-a', 'nope', '--arm-b', 'think_base'], /--arm-a: arm "nope" is not in RUN_A/],
  [['compare', 'RUN_A_FILE', 'RUN_B_DIR', '--seed', 'x'], /--seed: expected a non-negative integer/],
])('bad input %j exits 2 naming the argument and writes nothing', async (args, message) => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty, { recursive: true });
  const bad = join(tmp, 'bad.jsonl');
  writeFileSync(bad, `${lines('x', 'think_base', N, { p1: [1] })[0]}\n{not json\n`);
  const paths: Record<string, string> = { MISSING_A: join(tmp, 'MISSING_A'), RUN_B_DIR: runB, RUN_A_FILE: runA, EMPTY_DIR: empty, BAD_FILE: bad };
  const out = join(tmp, `out-${Math.random().toString(36).slice(2)}`);
  const r = await runCli([...args.map((a) => paths[a] ?? a), '--out', out]);
  if (r.status !== 2) throw new Error(show(r));
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
  expect(existsSync(out)).toBe(false);
});

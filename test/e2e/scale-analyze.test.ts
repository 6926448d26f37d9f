/**
 * `thought-probe analyze` at research scale (issue 23), the built CLI as a child process: a samples.jsonl of 20,000
 * prefixes (2 arms × 2 conditions × 2 samples = 160,000 records, seeded rewards, some invalid), written as a stream.
 * Every artifact is written, report.html bins its heatmaps and leaves no chart out, and summary.json's numbers are
 * those of a naive computation here, record by record (test/helpers/scale-records). A malformed file is refused,
 * naming its bad lines, and nothing is written.
 */
import { closeSync, copyFileSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SampleRecord } from '../../src/experiment/records';
import type { Summary } from '../../src/experiment/summary';
import { tempDir } from '../helpers/configs';
import { runCli, show } from '../helpers/e2e-cli';
import { NaiveStats, seededRandom, synthRecord } from '../helpers/scale-records';

const PREFIXES = 20_000;
const SAMPLES = 2;
const ARMS = ['think_base', 'think_phase4'];
const CONDITIONS = ['normal_model_thought', 'blank_thought'];
const RECORDS = PREFIXES * SAMPLES * ARMS.length * CONDITIONS.length;
const SUBSET = 50;

let dir: string;
let samples: string;
let stats: NaiveStats;
let subsetIds: Set<string>;
let subsetFile: string;
let subsetStats: NaiveStats;

const prefixId = (i: number) => `heldout-${String(i).padStart(6, '0')}`;

/** Writes lines to a file in chunks of about 1 MB (never the whole file as one string). */
class LineWriter {
  private fd: number;
  private buf: string[] = [];
  private size = 0;
  lines = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  line(text: string): void {
    this.buf.push(text);
    this.size += text.length + 1;
    this.lines++;
    if (this.size > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length) writeSync(this.fd, `${this.buf.join('\n')}\n`);
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

beforeAll(() => {
  dir = tempDir('tp-scale-analyze-');
  samples = join(dir, 'samples.jsonl');
  subsetFile = join(dir, 'subset.jsonl');
  const rand = seededRandom(20231);
  // ~50 prefixes picked at random for the per-prefix check.
  subsetIds = new Set<string>();
  while (subsetIds.size < SUBSET) subsetIds.add(prefixId(Math.floor(rand() * PREFIXES)));
  // Each prefix has its difficulty, each arm its skill; blank thoughts help less than the arm's own.
  const ease = Array.from({ length: PREFIXES }, () => rand());
  stats = new NaiveStats();
  subsetStats = new NaiveStats();
  const all = new LineWriter(samples);
  const subset = new LineWriter(subsetFile);
  for (const [a, arm] of ARMS.entries()) {
    for (const condition of CONDITIONS) {
      for (let i = 0; i < PREFIXES; i++) {
        for (let k = 0; k < SAMPLES; k++) {
          const p = Math.min(1, ease[i]! * (condition === 'normal_model_thought' ? 0.7 + 0.3 * a : 0.5));
          const r = synthRecord(rand, { runId: 'scale-run', arm, condition, prefixIndex: i, prefixId: prefixId(i), sample: k, p, invalidRate: 0.08 });
          const text = JSON.stringify(r);
          all.line(text);
          stats.add(r);
          if (subsetIds.has(r.prefixId)) {
            subset.line(text);
            subsetStats.add(r);
          }
        }
      }
    }
  }
  all.close();
  subset.close();
  expect(all.lines).toBe(RECORDS);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const read = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;

test('analyze of 20,000 prefixes writes every artifact, bins the heatmaps and gives the naive numbers', async () => {
  const out = join(dir, 'out');
  const started = Date.now();
  const r = await runCli(['analyze', '--samples', samples, '--out', out], { timeoutMs: 120_000 });
  const seconds = (Date.now() - started) / 1000;
  expect({ status: r.status, out: r.status === 0 ? '' : show(r) }).toEqual({ status: 0, out: '' });
  expect(r.stdout).toMatch(/wrote .*summary\.json/);
  for (const f of ['summary.json', 'report.md', 'report.html']) expect({ f, size: statSync(join(out, f)).size > 0 }).toEqual({ f, size: true });
  expect(readdirSync(out).sort()).toEqual(['report.html', 'report.md', 'summary.json']);
  // (For the report: how long analyze took on this machine.)
  console.log(`analyze of ${RECORDS.toLocaleString('en-US')} records (${(statSync(samples).size / 1e6).toFixed(1)} MB): ${seconds.toFixed(1)} s`);

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  expect(html).toContain('id="heatmaps-binned"');
  expect(html).toContain(`With ${PREFIXES.toLocaleString('en-US')} prefixes`);
  expect(html).not.toContain('data-chart-left-out');
  for (const arm of ARMS) expect(html).toContain(`<figure class="chart" data-chart="heatmap" data-arm="${arm}"><svg`);
  expect(html).toContain('<figure class="chart" data-chart="reward"><svg');
  expect(html).toContain('<figure class="chart" data-chart="sensitivity"><svg');

  const summary = read<Summary>(join(out, 'summary.json'));
  expect(summary.runId).toBe('scale-run');
  expect(summary.simulated).toBe(true);
  expect(summary.scale).toMatchObject({ arms: ARMS.length, prefixes: PREFIXES, samplesPerPrefix: SAMPLES, judgedSuffixes: RECORDS, invalid: stats.invalid });
  expect(stats.invalid).toBeGreaterThan(0);
  expect(summary.scale.invalidJudgeRate).toBeCloseTo(stats.invalid / RECORDS, 12);
  expect(Object.keys(summary.arms)).toEqual(ARMS);
  for (const arm of ARMS) {
    for (const condition of CONDITIONS) {
      const want = stats.metrics(arm, condition);
      const got = summary.arms[arm]!.conditions[condition]!;
      const where = `${arm} / ${condition}`;
      expect({ where, n: got.n, valid: got.valid, invalid: got.invalid, prefixes: got.prefixes }).toEqual({ where, n: want.n, valid: want.valid, invalid: want.invalid, prefixes: want.prefixes });
      expect(want.prefixes).toBeLessThan(PREFIXES); // some prefixes have no valid record here
      expect(got.rewardMean).toBeCloseTo(want.rewardMean!, 12);
      expect(got.anySuccessPrefixRate).toBeCloseTo(want.anySuccessPrefixRate!, 12);
      expect(got.avgThoughtWords).toBeCloseTo(want.avgThoughtWords, 12);
      expect(got.avgSuffixWords).toBeCloseTo(want.avgSuffixWords, 12);
      expect(got.invalidJudgeRate).toBeCloseTo(want.invalidJudgeRate, 12);
    }
    // Prefix-level sensitivity over every prefix valid under both conditions, and its win counts.
    const want = stats.sensitivity(arm, 'blank_thought');
    const got = summary.arms[arm]!.sensitivity.blank_thought!;
    expect(got.prefixes).toBe(want.prefixes);
    expect(got.mean).toBeCloseTo(want.mean!, 12);
    const w = summary.arms[arm]!.winRates.blank_thought!;
    expect(w.prefixes).toBe(want.prefixes);
    expect(w.normalBetter).toBeCloseTo(want.wins / want.prefixes, 12);
    expect(w.interventionBetter).toBeCloseTo(want.losses / want.prefixes, 12);
    expect(w.tie).toBeCloseTo(want.ties / want.prefixes, 12);
  }
  // The two arms differ (the numbers are not the same everywhere by construction).
  expect(summary.arms[ARMS[0]!]!.sensitivity.blank_thought!.mean).not.toBeCloseTo(summary.arms[ARMS[1]!]!.sensitivity.blank_thought!.mean!, 3);

  const md = readFileSync(join(out, 'report.md'), 'utf8');
  for (const arm of ARMS) expect(md).toContain(`\`${arm}\``);
}, 180_000);

test(`the per-prefix means of ${SUBSET} random prefixes: their analyze gives the naive sensitivity and draws each prefix mean`, async () => {
  const out = join(dir, 'subset-out');
  const r = await runCli(['analyze', '--samples', subsetFile, '--out', out], { timeoutMs: 60_000 });
  expect({ status: r.status, out: r.status === 0 ? '' : show(r) }).toEqual({ status: 0, out: '' });
  const summary = read<Summary>(join(out, 'summary.json'));
  expect(summary.scale.prefixes).toBe(SUBSET);
  for (const arm of ARMS) {
    // The same prefixes' differences, from the whole file's naive counts.
    const want = stats.sensitivity(arm, 'blank_thought', subsetIds);
    expect(subsetStats.sensitivity(arm, 'blank_thought')).toEqual(want);
    const got = summary.arms[arm]!.sensitivity.blank_thought!;
    expect(got.prefixes).toBe(want.prefixes);
    expect(got.mean).toBeCloseTo(want.mean!, 12);
  }
  // 50 prefixes: a row per prefix, each cell labelled with its prefix mean.
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  expect(html).not.toContain('id="heatmaps-binned"');
  expect(html).not.toContain('data-chart-left-out');
  for (const arm of ARMS) {
    const svg = new RegExp(`<figure class="chart" data-chart="heatmap" data-arm="${arm}">(<svg[\\s\\S]*?</svg>)</figure>`).exec(html)?.[1];
    expect(svg).toBeDefined();
    const layer = /<g class="mark-rect role-mark layer_1_marks"[^>]*>([\s\S]*?)<\/g>/.exec(svg!)![1]!;
    const drawn = [...layer.matchAll(/aria-label="condition: (\w+); Prefix: ([^;]+); Prefix mean: ([^"]+)"/g)].map((m) => `${m[1]}|${m[2]}|${Number(m[3])}`);
    const want = CONDITIONS.flatMap((c) => [...subsetIds].flatMap((id) => {
      const m = stats.prefixMean(arm, c, id);
      return m === null ? [] : [`${c === 'normal_model_thought' ? 'normal' : 'blank'}|${id}|${m}`];
    }));
    expect(drawn.sort()).toEqual(want.sort());
  }
}, 120_000);

test('a malformed line makes analyze exit 2 naming its line numbers, and nothing is written', async () => {
  const bad = join(dir, 'bad.jsonl');
  copyFileSync(samples, bad);
  // Appended to a copy: a record whose reward is impossible (line RECORDS + 1), then a line that is not JSON.
  const wrong: SampleRecord = { ...JSON.parse(readFileSync(samples, 'utf8').slice(0, 4096).split('\n')[0]!), reward: 2 };
  const fd = openSync(bad, 'a');
  writeSync(fd, `${JSON.stringify(wrong)}\n{"arm": "think_base", "condition": oops\n`);
  closeSync(fd);
  const out = join(dir, 'bad-out');
  const r = await runCli(['analyze', '--samples', bad, '--out', out], { timeoutMs: 120_000 });
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
  expect(r.stderr).toContain('malformed samples file; nothing was written');
  expect(r.stderr).toContain(`${bad}: line ${RECORDS + 1}: reward`);
  expect(r.stderr).toContain(`${bad}: line ${RECORDS + 2}: not valid JSON`);
  expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
}, 120_000);

/**
 * End to end: `thought-probe analyze` on records built to match the research note
 * (seed/THOUGHT_USE_PROBE.md) must reproduce every number of the note's three tables, in summary.json
 * and as table rows in report.md. A malformed samples file must fail cleanly with exit code 2.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { NOTE_ARMS, NOTE_CONDITIONS, noteRecords, noteRecordsJsonl } from '../fixtures/noteRecords';
import { INTERVENTIONS } from '../../src/experiment/conditions';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(REPO_ROOT, 'bin', 'thought-probe.js');

type Row = string[];

/** The note's tables, copied verbatim (numbers as shown, as strings, to keep their precision). */
const NOTE = {
  // Arm | Condition | Reward mean | Any-success prefix rate | Avg thought words | Avg suffix words
  mainMetrics: [
    ['think_base', 'normal_model_thought', '0.1172', '0.3438', '34.7', '89.8'],
    ['think_base', 'blank_thought', '0.1406', '0.4062', '0.0', '88.2'],
    ['think_base', 'generic_thought', '0.2031', '0.5938', '11.5', '92.0'],
    ['think_base', 'same_arm_swapped_thought', '0.0156', '0.0625', '34.7', '87.1'],
    ['think_phase3', 'normal_model_thought', '0.1250', '0.4062', '35.7', '87.0'],
    ['think_phase3', 'blank_thought', '0.1172', '0.4062', '0.0', '84.7'],
    ['think_phase3', 'generic_thought', '0.1953', '0.5000', '11.5', '93.4'],
    ['think_phase3', 'same_arm_swapped_thought', '0.0234', '0.0938', '35.7', '91.9'],
    ['think_base_rlmt', 'normal_model_thought', '0.0859', '0.2812', '33.9', '87.1'],
    ['think_base_rlmt', 'blank_thought', '0.1094', '0.3750', '0.0', '89.4'],
    ['think_base_rlmt', 'generic_thought', '0.1797', '0.4062', '11.5', '90.5'],
    ['think_base_rlmt', 'same_arm_swapped_thought', '0.0156', '0.0625', '33.9', '85.3'],
    ['think_phase3_rlmt', 'normal_model_thought', '0.1094', '0.3125', '34.1', '89.5'],
    ['think_phase3_rlmt', 'blank_thought', '0.1562', '0.4375', '0.0', '93.5'],
    ['think_phase3_rlmt', 'generic_thought', '0.1797', '0.4375', '11.5', '92.3'],
    ['think_phase3_rlmt', 'same_arm_swapped_thought', '0.0156', '0.0625', '34.1', '83.8'],
  ] as Row[],
  // Arm | Normal - blank | Normal - generic | Normal - swapped
  sensitivity: [
    ['think_base', '-0.0234', '-0.0859', '+0.1016'],
    ['think_phase3', '+0.0078', '-0.0703', '+0.1016'],
    ['think_base_rlmt', '-0.0234', '-0.0938', '+0.0703'],
    ['think_phase3_rlmt', '-0.0469', '-0.0703', '+0.0938'],
  ] as Row[],
  // Arm | Normal better | Swapped better | Tie
  winRates: [
    ['think_base', '0.3438', '0.0625', '0.5938'],
    ['think_phase3', '0.4062', '0.0312', '0.5625'],
    ['think_base_rlmt', '0.2500', '0.0312', '0.7188'],
    ['think_phase3_rlmt', '0.2500', '0.0000', '0.7500'],
  ] as Row[],
};

/** The parts of summary.json (EXPERIMENT.md) this test reads; everything is optional until checked. */
interface Summary {
  arms?: Record<
    string,
    {
      conditions?: Record<string, Record<string, unknown>>;
      sensitivity?: Record<string, { mean?: unknown }>;
      winRates?: Record<string, { normalBetter?: unknown; interventionBetter?: unknown; tie?: unknown }>;
    }
  >;
}


/**
 * True when `value` rounded to the shown number's decimals gives the shown number. Several note values
 * are exact halves (e.g. 11/32 = 0.34375 shown as 0.3438, 20/128 = 0.15625 shown as 0.1562), so
 * "rounds to" is checked as |value - shown| <= half a unit in the last place (plus float slack), which
 * accepts either tie-breaking rule.
 */
function roundsTo(value: unknown, shown: string): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  const decimals = shown.split('.')[1]?.length ?? 0;
  return Math.abs(value - Number(shown)) <= 0.5 * 10 ** -decimals + 1e-9;
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Markdown row as the note writes it: arm and condition in backticks, other cells as shown. */
function mdRow(cells: Row, codeCells: number): string {
  return `| ${cells.map((c, j) => (j < codeCells ? `\`${c}\`` : c)).join(' | ')} |`;
}

describe('analyze reproduces the research note', () => {
  let tmp: string;
  let outDir: string;
  let summary: Summary | undefined;
  let report: string;
  let run: { status: number | null; stdout: string; stderr: string };

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'thought-probe-note-'));
    const samples = path.join(tmp, 'samples.jsonl');
    fs.writeFileSync(samples, noteRecordsJsonl(noteRecords()));
    outDir = path.join(tmp, 'out');
    run = runCli(['analyze', '--samples', samples, '--out', outDir]);
    if (run.status === 0) {
      summary = JSON.parse(fs.readFileSync(path.join(outDir, 'summary.json'), 'utf8')) as Summary;
      report = fs.readFileSync(path.join(outDir, 'report.md'), 'utf8');
    }
  });

  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the fixture has one record per arm x condition x prefix x sample', () => {
    const records = noteRecords();
    expect(records).toHaveLength(NOTE_ARMS.length * NOTE_CONDITIONS.length * 32 * 4);
    expect(new Set(records.map((r) => `${r.arm}|${r.condition}|${r.prefixId}|${r.sample}`)).size).toBe(
      records.length,
    );
  });

  test('analyze exits 0 and writes summary.json and report.md', () => {
    if (run.status !== 0) {
      throw new Error(`analyze exited ${run.status}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    }
    expect(summary).toBeDefined();
    expect(typeof report).toBe('string');
  });

  test.each(NOTE.mainMetrics)('Main Metrics: %s / %s', (arm, condition, rewardMean, anySuccess, thoughtW, suffixW) => {
    expect(run.status).toBe(0);
    const cell = summary?.arms?.[arm]?.conditions?.[condition];
    if (!cell) throw new Error(`summary.json has no arms.${arm}.conditions.${condition}`);
    const actual = {
      n: cell.n,
      invalid: cell.invalid,
      rewardMean: cell.rewardMean,
      anySuccessPrefixRate: cell.anySuccessPrefixRate,
      avgThoughtWords: cell.avgThoughtWords,
      avgSuffixWords: cell.avgSuffixWords,
    };
    expect({
      n: actual.n,
      invalid: actual.invalid,
      rewardMean: roundsTo(actual.rewardMean, rewardMean) ? rewardMean : actual.rewardMean,
      anySuccessPrefixRate: roundsTo(actual.anySuccessPrefixRate, anySuccess) ? anySuccess : actual.anySuccessPrefixRate,
      avgThoughtWords: roundsTo(actual.avgThoughtWords, thoughtW) ? thoughtW : actual.avgThoughtWords,
      avgSuffixWords: roundsTo(actual.avgSuffixWords, suffixW) ? suffixW : actual.avgSuffixWords,
    }).toEqual({
      n: 128,
      invalid: 0,
      rewardMean,
      anySuccessPrefixRate: anySuccess,
      avgThoughtWords: thoughtW,
      avgSuffixWords: suffixW,
    });
  });

  test.each(NOTE.sensitivity)('Causal Sensitivity: %s', (arm, ...shown) => {
    expect(run.status).toBe(0);
    const sensitivity = summary?.arms?.[arm]?.sensitivity;
    if (!sensitivity) throw new Error(`summary.json has no arms.${arm}.sensitivity`);
    const actual = Object.fromEntries(
      INTERVENTIONS.map((c, j) => {
        const mean = sensitivity[c]?.mean;
        return [c, roundsTo(mean, shown[j]) ? shown[j] : mean];
      }),
    );
    expect(actual).toEqual(Object.fromEntries(INTERVENTIONS.map((c, j) => [c, shown[j]])));
  });

  test.each(NOTE.winRates)('Win rates normal over swapped: %s', (arm, normalBetter, swappedBetter, tie) => {
    expect(run.status).toBe(0);
    const w = summary?.arms?.[arm]?.winRates?.same_arm_swapped_thought;
    if (!w) throw new Error(`summary.json has no arms.${arm}.winRates.same_arm_swapped_thought`);
    const actual = {
      normalBetter: roundsTo(w.normalBetter, normalBetter) ? normalBetter : w.normalBetter,
      interventionBetter: roundsTo(w.interventionBetter, swappedBetter) ? swappedBetter : w.interventionBetter,
      tie: roundsTo(w.tie, tie) ? tie : w.tie,
    };
    expect(actual).toEqual({ normalBetter, interventionBetter: swappedBetter, tie });
  });

  test('report.md contains every row of the note tables', () => {
    expect(run.status).toBe(0);
    const lines = report.split(/\r?\n/).map((l) => l.trim());
    const expected = [
      ...NOTE.mainMetrics.map((r) => mdRow(r, 2)),
      ...NOTE.sensitivity.map((r) => mdRow(r, 1)),
      ...NOTE.winRates.map((r) => mdRow(r, 1)),
    ];
    const missing = expected.filter((row) => !lines.includes(row));
    expect(missing).toEqual([]);
  });
});

describe('analyze rejects a malformed samples file', () => {
  test('a bad line 3 exits with code 2, names line 3 and writes nothing', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'thought-probe-bad-'));
    try {
      const good = noteRecords().slice(0, 4).map((r) => JSON.stringify(r));
      const samples = path.join(tmp, 'samples.jsonl');
      fs.writeFileSync(samples, [good[0], good[1], '{not json', good[2], good[3]].join('\n') + '\n');
      const outDir = path.join(tmp, 'out');
      const run = runCli(['analyze', '--samples', samples, '--out', outDir]);
      if (run.status !== 2 || !/line 3\b/i.test(run.stderr)) {
        throw new Error(
          `expected exit 2 and "line 3" in stderr; got exit ${run.status}\nstderr:\n${run.stderr.slice(0, 2000)}`,
        );
      }
      const written = fs.existsSync(outDir) ? fs.readdirSync(outDir) : [];
      expect(written).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

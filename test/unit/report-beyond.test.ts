import { buildSummary } from '../../src/experiment/summary';
import { renderReport } from '../../src/experiment/report';
import { scoreRecord, type ScoredRecord } from '../../src/experiment/metrics';
import { judgeAgreement, type JudgedRecord } from '../../src/experiment/judges';
import { powerTable } from '../../src/experiment/power';
import { truncationPoints } from '../../src/report/charts';

const rec = (arm: string, condition: string, prefixId: string, reward: 0 | 1): ScoredRecord => ({ arm, condition, prefixId, sample: 0, reward, thoughtWords: 4, suffixWords: 8 });

describe('report.md beyond the note', () => {
  // 12 prefixes; normal always 1, blank always 0, the truncations and the filler 1 on every other prefix.
  const records = Array.from({ length: 12 }, (_, i) => [
    rec('a', 'normal_model_thought', `p${i}`, 1),
    rec('a', 'blank_thought', `p${i}`, 0),
    rec('a', 'truncated_25', `p${i}`, (i % 2) as 0 | 1),
    rec('a', 'truncated_50', `p${i}`, (i % 2) as 0 | 1),
    rec('a', 'filler', `p${i}`, 1),
  ]).flat();
  const interventions = {
    truncated_25: { intervention: 'truncated_thought' as const, keep: 0.25 },
    truncated_50: { intervention: 'truncated_thought' as const, keep: 0.5 },
    filler: { intervention: 'filler_thought' as const, token: '...' },
  };
  const summary = buildSummary(records, { runId: 'beyond', interventions, conditionOrder: ['normal_model_thought', 'blank_thought', 'truncated_25', 'truncated_50', 'filler'] });
  const md = renderReport(summary, { power: powerTable(records) });

  test("the note's sensitivity table keeps the note's columns; the interventions get their own table", () => {
    expect(md).toContain('| Arm | Normal - blank |\n| --- | ---: |\n| `a` | +1.0000 |');
    expect(md).toContain('## Interventions');
    expect(md).toContain('| `a` | `truncated_25` | `truncated_thought keep=0.25` | 0.5000 | +0.5000 |');
    expect(md).toContain('| `a` | `filler` | `filler_thought token=...` | 1.0000 | +0.0000 |');
  });

  test('a claim not supported says how many prefixes it would need', () => {
    expect(md).toContain('- `a`: its own thought beats `filler`: not supported');
    expect(md).toMatch(/its own thought beats `truncated_50`: supported/);
    const filler = md.split('\n').findIndex((l) => l.includes('its own thought beats `filler`'));
    expect(md.split('\n')[filler + 1]).toBe('  - How many prefixes (alpha 0.05, power 0.8, `thought-probe power`): with SD 0.0000 of the prefix differences, 12 prefixes detect an effect of 0.0000 or more; the observed effect is zero, which no number of prefixes detects.');
  });

  test('the truncation curve runs from blank (keep 0) through the keeps to normal (keep 1)', () => {
    expect(truncationPoints(summary).map((p) => [p.keep, p.mean])).toEqual([[0, 0], [0.25, 0.5], [0.5, 0.5], [1, 1]]);
    expect(truncationPoints(buildSummary(records, { runId: 'one', interventions: { truncated_25: interventions.truncated_25 } }))).toEqual([]);
  });
});

describe('report.md with two judges', () => {
  const judged = (condition: string, prefixId: string, reward: 0 | 1, b: 0 | 1): JudgedRecord => ({
    arm: 'a', condition, prefixId, sample: 0, thought: 't', suffix: 's', reward,
    judgments: [{ score: reward, valid: true, raw: '', attempts: 1 }],
    judges: { strict: { reward: b, judgments: [{ score: b, valid: true, raw: '', attempts: 1 }] } },
  });
  // The main judge sees normal beat blank on every prefix; the strict judge sees a tie on every prefix.
  const records = Array.from({ length: 12 }, (_, i) => [judged('normal_model_thought', `p${i}`, 1, 0), judged('blank_thought', `p${i}`, 0, 0)]).flat();
  const summary = buildSummary(records.map(scoreRecord), { runId: 'judges', judgeAgreement: judgeAgreement(records) });
  const md = renderReport(summary);

  test('a "Judge agreement" section with reward means, kappa and sensitivity per judge', () => {
    expect(md).toContain('## Judge agreement');
    expect(md).toContain('| Arm | Condition | `judge` | `strict` |');
    expect(md).toContain('| `judge` | `strict` | 24 | 0.5000 | +0.0000 |');
    expect(md).toContain('| `a` | `blank_thought` | +1.0000 (supported) | +0.0000 |');
  });

  test('a claim holding under one judge only is not supported, and the report says under which it holds', () => {
    expect(md).toContain('- `a`: its own thought beats a blank thought: not supported: it holds under `judge` but not under `strict`');
  });
});

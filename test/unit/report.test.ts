import { CONDITIONS, shortCondition } from '../../src/experiment/conditions';
import type { ScoredRecord } from '../../src/experiment/metrics';
import { renderReport } from '../../src/experiment/report';
import { buildSummary } from '../../src/experiment/summary';

const N = 'normal_model_thought';
const B = 'blank_thought';
const G = 'generic_thought';
const S = 'same_arm_swapped_thought';

function rec(arm: string, condition: string, prefixId: string, sample: number, reward: 0 | 1 | null, thoughtWords = 0, suffixWords = 0): ScoredRecord {
  return { arm, condition, prefixId, sample, reward, thoughtWords, suffixWords };
}

// Arm think_base, prefixes p1, p2, one sample each:
//   normal  p1 1, p2 0  (thought 10 and 13 words, suffix 20 and 21)
//   blank   p1 0, p2 0  -> sensitivity (1 + 0)/2 = +0.5
//   generic p1 1, p2 1  -> sensitivity (0 - 1)/2 = -0.5
//   swapped p1 0, p2 0  -> sensitivity +0.5; normal better 1/2, tie 1/2
function records(withSwap: boolean): ScoredRecord[] {
  const out = [
    rec('think_base', N, 'p1', 0, 1, 10, 20),
    rec('think_base', N, 'p2', 0, 0, 13, 21),
    rec('think_base', B, 'p1', 0, 0),
    rec('think_base', B, 'p2', 0, 0),
    rec('think_base', G, 'p1', 0, 1, 11, 5),
    rec('think_base', G, 'p2', 0, 1, 12, 5),
  ];
  if (withSwap) out.push(rec('think_base', S, 'p1', 0, 0), rec('think_base', S, 'p2', 0, null));
  return out;
}

describe('renderReport', () => {
  it('with normal, blank and generic only: two sensitivity columns and no win-rate table', () => {
    const md = renderReport(buildSummary(records(false), { runId: 'smoke' }));
    expect(md).toContain('# Thought-use probe: smoke');
    expect(md).toContain('## Causal Sensitivity');
    expect(md).toContain('| Arm | Normal - blank | Normal - generic |\n| --- | ---: | ---: |');
    expect(md).toContain('| `think_base` | +0.5000 | -0.5000 |');
    expect(md).not.toContain('Normal - swapped');
    expect(md).not.toContain('win rates');
    expect(md).not.toContain('Swapped better');
  });

  it('with swapped: a third sensitivity column and the win-rate table', () => {
    const md = renderReport(buildSummary(records(true), { runId: 'full' }));
    expect(md).toContain('| Arm | Normal - blank | Normal - generic | Normal - swapped |');
    // swapped p2 is invalid, so only p1 is paired: 1 - 0 = +1, normal better 1, tie 0.
    expect(md).toContain('| `think_base` | +0.5000 | -0.5000 | +1.0000 |');
    expect(md).toContain('## Prefix-level win rates for `normal_model_thought` over swapped');
    expect(md).toContain('| Arm | Normal better | Swapped better | Tie |');
    expect(md).toContain('| `think_base` | 1.0000 | 0.0000 | 0.0000 |');
  });

  it('fills the main metrics table in condition order with rates to 4 decimals and words to 1', () => {
    const md = renderReport(buildSummary(records(true), { runId: 'full' }));
    expect(md).toContain('| Arm | Condition | Reward mean | Any-success prefix rate | Avg thought words | Avg suffix words |');
    const main = md.slice(md.indexOf('## Main Metrics'), md.indexOf('## Causal Sensitivity'));
    const rows = main.split('\n').filter((l) => l.startsWith('| `think_base` | `'));
    expect(rows).toEqual([
      '| `think_base` | `normal_model_thought` | 0.5000 | 0.5000 | 11.5 | 20.5 |',
      '| `think_base` | `blank_thought` | 0.0000 | 0.0000 | 0.0 | 0.0 |',
      '| `think_base` | `generic_thought` | 1.0000 | 1.0000 | 11.5 | 5.0 |',
      '| `think_base` | `same_arm_swapped_thought` | 0.0000 | 0.0000 | 0.0 | 0.0 |',
    ]);
  });

  it('states the run scale', () => {
    const md = renderReport(buildSummary(records(true), { runId: 'full' }));
    // 8 records, 1 invalid.
    expect(md).toContain('- Prefixes: 2');
    expect(md).toContain('- Samples per prefix: 1');
    expect(md).toContain('- Judged suffixes: 8');
    expect(md).toContain('- Invalid judge rate: 0.1250 (1 invalid)');
  });

  it('leaves the sensitivity table out when only the baseline was run', () => {
    const md = renderReport(buildSummary([rec('a', N, 'p1', 0, 1)], { runId: 'only-normal' }));
    expect(md).toContain('## Main Metrics');
    expect(md).not.toContain('## Causal Sensitivity');
    expect(md).not.toContain('win rates');
  });

  it('carries the SIMULATION banner for a simulated summary only', () => {
    const sim = renderReport(buildSummary(records(false), { runId: 's', simulated: true }));
    expect(sim).toContain('> SIMULATION:');
    const real = renderReport(buildSummary(records(false), { runId: 'r' }));
    expect(real).not.toContain('SIMULATION');
  });

  it('lists the run ids after a resume', () => {
    const md = renderReport(buildSummary(records(false), { runId: 'r2', runIds: ['r1', 'r2'] }));
    expect(md).toContain('Records from runs: `r1`, `r2`.');
  });

  it('states per arm whether each claim is supported, from the interval and the permutation p-value', () => {
    const md = renderReport(buildSummary(records(true), { runId: 'full' }));
    expect(md).toContain('## What this run supports');
    // Two prefixes cannot support anything: the sign-flip p-value of two positive differences is 2/4.
    expect(md).toMatch(/- `think_base`: swapping in another prefix's thought lowers reward: not supported/);
    expect(md).toContain('| Arm | Intervention | Sensitivity | 95% CI | p (permutation) |');
  });

  it('calls a claim supported when every prefix agrees: 12 prefixes give a sign-flip p of 2/4096', () => {
    const scored = Array.from({ length: 12 }, (_, i) => [
      { arm: 'a', condition: 'normal_model_thought', prefixId: `p${i}`, sample: 0, reward: 1 as const, thoughtWords: 3, suffixWords: 5 },
      { arm: 'a', condition: 'same_arm_swapped_thought', prefixId: `p${i}`, sample: 0, reward: 0 as const, thoughtWords: 3, suffixWords: 5 },
    ]).flat();
    const summary = buildSummary(scored, { runId: 'strong' });
    expect(summary.arms.a!.sensitivity.same_arm_swapped_thought!.pPermutation).toBeCloseTo(2 / 4096, 12);
    expect(summary.arms.a!.sensitivity.same_arm_swapped_thought!.ci).toEqual([1, 1]);
    expect(renderReport(summary)).toContain("- `a`: swapping in another prefix's thought lowers reward: supported (sensitivity +1.0000, 95% CI [1.0000, 1.0000], p = 0.0005, 12 prefixes).");
  });
});

describe('shortCondition', () => {
  test('the four conditions have their short names, any other condition keeps its name', () => {
    expect(CONDITIONS.map(shortCondition)).toEqual(['normal', 'blank', 'generic', 'swapped']);
    for (const other of ['truncated_thought_0.5', 'filler_thought', 'constructor', 'toString']) expect(shortCondition(other)).toBe(other);
  });

  test('the sensitivity table names its columns with them', () => {
    const records = [N, B, G, S, 'zeta'].flatMap((c) => [rec('a', c, 'p0', 0, 1), rec('a', c, 'p1', 0, 0)]);
    expect(renderReport(buildSummary(records, { runId: 'short' }))).toContain('| Arm | Normal - blank | Normal - generic | Normal - swapped | Normal - zeta |');
  });
});

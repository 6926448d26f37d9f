import { BASELINE } from './conditions';
import { formatRate, formatSigned, formatWords } from './format';
import type { Summary } from './summary';

const SHORT: Record<string, string> = {
  blank_thought: 'blank',
  generic_thought: 'generic',
  same_arm_swapped_thought: 'swapped',
};
const SWAPPED = 'same_arm_swapped_thought';

const code = (s: string) => `\`${s}\``;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

function interventionsRun(summary: Summary): string[] {
  const seen: string[] = [];
  for (const arm of Object.values(summary.arms)) {
    for (const c of Object.keys(arm.sensitivity)) if (!seen.includes(c)) seen.push(c);
  }
  return seen;
}

/** Renders report.md: the run's scale and the research note's three tables, each left out when its conditions were not run. */
export function renderReport(summary: Summary): string {
  const out: string[] = [];
  const arms = Object.entries(summary.arms);
  out.push(`# Thought-use probe: ${summary.runId}`, '');
  if (summary.simulated) {
    out.push('> SIMULATION: these numbers come from simulated endpoints, not from real models.', '');
  }
  if (summary.runIds.length > 1) out.push(`Records from runs: ${summary.runIds.map(code).join(', ')}.`, '');
  const s = summary.scale;
  out.push(
    '## Run scale',
    '',
    `- Arms: ${s.arms}`,
    `- Prefixes: ${s.prefixes}`,
    `- Samples per prefix: ${s.samplesPerPrefix}`,
    `- Judged suffixes: ${s.judgedSuffixes.toLocaleString('en-US')}`,
    `- Invalid judge rate: ${formatRate(s.invalidJudgeRate)} (${s.invalid} invalid)`,
    '',
  );

  out.push('## Main Metrics', '');
  out.push(row(['Arm', 'Condition', 'Reward mean', 'Any-success prefix rate', 'Avg thought words', 'Avg suffix words']));
  out.push(row(['---', '---', '---:', '---:', '---:', '---:']));
  for (const [arm, m] of arms) {
    for (const [cond, c] of Object.entries(m.conditions)) {
      out.push(row([code(arm), code(cond), formatRate(c.rewardMean), formatRate(c.anySuccessPrefixRate), formatWords(c.avgThoughtWords), formatWords(c.avgSuffixWords)]));
    }
  }
  out.push('');

  const interventions = interventionsRun(summary);
  if (interventions.length > 0) {
    out.push('## Causal Sensitivity', '');
    out.push(`Sensitivity is prefix-level \`${BASELINE} - intervened_condition\`. Positive means the model's own thought helped relative to the intervention.`, '');
    out.push(row(['Arm', ...interventions.map((c) => `Normal - ${SHORT[c] ?? c}`)]));
    out.push(row(['---', ...interventions.map(() => '---:')]));
    for (const [arm, m] of arms) {
      out.push(row([code(arm), ...interventions.map((c) => formatSigned(m.sensitivity[c]?.mean ?? null))]));
    }
    out.push('');
  }

  const withSwap = arms.filter(([, m]) => m.winRates[SWAPPED]);
  if (withSwap.length > 0) {
    out.push(`## Prefix-level win rates for \`${BASELINE}\` over swapped`, '');
    out.push(row(['Arm', 'Normal better', 'Swapped better', 'Tie']));
    out.push(row(['---', '---:', '---:', '---:']));
    for (const [arm, m] of withSwap) {
      const w = m.winRates[SWAPPED]!;
      out.push(row([code(arm), formatRate(w.normalBetter), formatRate(w.interventionBetter), formatRate(w.tie)]));
    }
    out.push('');
  }
  return out.join('\n');
}

import { BASELINE, shortCondition } from './conditions';
import { formatRate, formatSigned, formatWords } from './format';
import type { InterventionInfo, Summary } from './summary';
import { DEFAULT_ALPHA, DEFAULT_POWER, type PowerEstimate } from './power';
import type { JudgedSensitivity } from './judges';

/** What report.md adds beyond the summary: the prefix counts of claims not supported (`powerTable` of the records). */
export interface ReportOptions {
  power?: Record<string, Record<string, PowerEstimate>>;
}

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

/** Whether a condition is a configured intervention of the run (it has its own table, not a note column). */
const isConfigured = (summary: Summary, c: string): boolean => Object.hasOwn(summary.interventions ?? {}, c);

/** Renders report.md: the run's scale and the research note's three tables, each left out when its conditions were not run. */
export function renderReport(summary: Summary, opts: ReportOptions = {}): string {
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
  // The note's table keeps its columns: configured interventions go to a table of their own.
  const noteInterventions = interventions.filter((c) => !isConfigured(summary, c));
  if (noteInterventions.length > 0) {
    out.push('## Causal Sensitivity', '');
    out.push(`Sensitivity is prefix-level \`${BASELINE} - intervened_condition\`. Positive means the model's own thought helped relative to the intervention.`, '');
    out.push(row(['Arm', ...noteInterventions.map((c) => `Normal - ${shortCondition(c)}`)]));
    out.push(row(['---', ...noteInterventions.map(() => '---:')]));
    for (const [arm, m] of arms) {
      out.push(row([code(arm), ...noteInterventions.map((c) => formatSigned(m.sensitivity[c]?.mean ?? null))]));
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

  out.push(...interventionsSection(summary));
  out.push(...judgeAgreementSection(summary));
  out.push(...uncertaintySection(summary, interventions, opts));
  return out.join('\n');
}

/** The "Interventions" table: every configured intervention against the arm's own thought (left out when none ran). */
function interventionsSection(summary: Summary): string[] {
  const configured = Object.entries(summary.interventions ?? {});
  const rows: string[] = [];
  for (const [arm, m] of Object.entries(summary.arms)) {
    for (const [name, info] of configured) {
      const c = m.conditions[name];
      const sens = m.sensitivity[name];
      const w = m.winRates[name];
      if (!c || !sens || !w) continue;
      rows.push(row([
        code(arm), code(name), code(interventionLabel(info)), formatRate(c.rewardMean), formatSigned(sens.mean), fmtCI(sens.ci), fmtP(sens.pPermutation),
        formatRate(w.normalBetter), formatRate(w.interventionBetter), formatRate(w.tie), fmtP(w.pSignTest),
      ]));
    }
  }
  if (rows.length === 0) return [];
  return [
    '## Interventions',
    '',
    `Each configured intervention against \`${BASELINE}\` of the same arm: sensitivity is prefix-level \`${BASELINE} - condition\` with a paired bootstrap interval (10,000 draws) and a sign-flip permutation p-value; win rates are shares of prefixes, with an exact sign test.`,
    '',
    row(['Arm', 'Condition', 'Intervention', 'Reward mean', 'Sensitivity', '95% CI', 'p (permutation)', 'Normal better', 'Intervention better', 'Tie', 'p (sign test)']),
    row(['---', '---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...rows,
    '',
  ];
}

/** Under which judges a claim holds and under which it does not. */
function judgedClaim(names: string[], byJudge: Record<string, JudgedSensitivity> | undefined): { holds: string[]; not: string[] } | undefined {
  if (!byJudge) return undefined;
  return { holds: names.filter((n) => byJudge[n]?.supported), not: names.filter((n) => !byJudge[n]?.supported) };
}

/** The "Judge agreement" section: repeated judgments and several judges (left out when every suffix was judged once). */
function judgeAgreementSection(summary: Summary): string[] {
  const a = summary.judgeAgreement;
  if (!a) return [];
  const out: string[] = ['## Judge agreement', ''];
  out.push('A reward from one LLM judge is checked, not trusted: the choice of judge alone can move a faithfulness measurement by tens of points (arXiv 2603.20172).', '');
  if (a.repeats) {
    out.push('Repeated judgments of each suffix by the main judge (distinct seeds; the reward is their majority): the share of suffixes whose valid judgments all agree, and Fleiss\' kappa over the suffixes with every judgment valid:', '');
    out.push(row(['Arm', 'Condition', 'Suffixes', 'Unanimous', "Fleiss' kappa", 'Suffixes with every judgment valid']));
    out.push(row(['---', '---', '---:', '---:', '---:', '---:']));
    for (const [arm, conds] of Object.entries(a.repeats)) {
      for (const [c, r] of Object.entries(conds)) out.push(row([code(arm), code(c), String(r.suffixes), formatRate(r.unanimous), formatSignedOrNa(r.fleissKappa), String(r.complete)]));
    }
    out.push('');
  }
  if (a.judges) {
    const names = a.judges.names;
    out.push('Reward mean under each judge (`judge` is the main one):', '');
    out.push(row(['Arm', 'Condition', ...names.map(code)]));
    out.push(row(['---', '---', ...names.map(() => '---:')]));
    const main = a.judges.rewardMeans[names[0]!] ?? {};
    for (const [arm, conds] of Object.entries(main)) {
      for (const c of Object.keys(conds)) out.push(row([code(arm), code(c), ...names.map((n) => formatRate(a.judges!.rewardMeans[n]?.[arm]?.[c] ?? null))]));
    }
    out.push('', "Agreement between judges over the suffixes both judged validly, with Cohen's kappa:", '');
    out.push(row(['Judge A', 'Judge B', 'Suffixes', 'Agreement', "Cohen's kappa"]));
    out.push(row(['---', '---', '---:', '---:', '---:']));
    for (const p of a.judges.pairs) out.push(row([code(p.judgeA), code(p.judgeB), String(p.suffixes), formatRate(p.agreement), formatSignedOrNa(p.cohenKappa)]));
    out.push('', 'Sensitivity under each judge (normal minus condition; "supported" as in "What this run supports"):', '');
    out.push(row(['Arm', 'Condition', ...names.map(code)]));
    out.push(row(['---', '---', ...names.map(() => '---:')]));
    for (const [arm, conds] of Object.entries(a.judges.sensitivity)) {
      for (const [c, byJudge] of Object.entries(conds)) {
        out.push(row([code(arm), code(c), ...names.map((n) => (byJudge[n] ? `${formatSigned(byJudge[n]!.mean)}${byJudge[n]!.supported ? ' (supported)' : ''}` : 'n/a'))]));
      }
    }
    out.push('');
  }
  return out;
}

/** A kappa: signed with 4 decimals, or n/a. */
function formatSignedOrNa(x: number | null): string {
  return x === null ? 'n/a' : formatSigned(x);
}

/** The "How many prefixes" line of a claim not supported: what this run can detect, and what the observed effect needs. */
function howManyPrefixes(p: PowerEstimate): string {
  const head = `How many prefixes (alpha ${DEFAULT_ALPHA}, power ${DEFAULT_POWER}, \`thought-probe power\`):`;
  if (p.sd === null || p.minimumDetectableEffect === null) return `${head} too few prefixes to estimate the spread of the prefix differences.`;
  const detect = `with SD ${formatRate(p.sd)} of the prefix differences, ${p.prefixes} prefixes detect an effect of ${formatRate(p.minimumDetectableEffect)} or more`;
  if (p.prefixesNeeded === null) return `${head} ${detect}; the observed effect is zero, which no number of prefixes detects.`;
  return `${head} ${detect}; the observed ${formatSigned(p.effect)} would need ${p.prefixesNeeded.toLocaleString('en-US')} prefixes.`;
}

/** An intervention with its parameter, as the Interventions table names it: `truncated_thought keep=0.5`. */
function interventionLabel(info: InterventionInfo): string {
  const params = Object.entries(info).filter(([k]) => k !== 'intervention').map(([k, v]) => `${k}=${String(v)}`);
  return [info.intervention, ...params].join(' ');
}

const ALPHA = 0.05;

function fmtCI(ci: [number, number] | null | undefined): string {
  return ci ? `[${formatRate(ci[0])}, ${formatRate(ci[1])}]` : 'n/a';
}

function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined) return 'n/a';
  return p < 0.0001 ? '<0.0001' : formatRate(p);
}

const CLAIM: Record<string, string> = {
  blank_thought: 'its own thought beats a blank thought',
  generic_thought: 'its own thought beats a generic scaffold',
  same_arm_swapped_thought: "swapping in another prefix's thought lowers reward",
};

const REVERSE: Record<string, string> = {
  blank_thought: 'a blank thought beats its own thought',
  generic_thought: 'a generic scaffold beats its own thought',
  same_arm_swapped_thought: "another prefix's thought beats its own",
};

/**
 * The uncertainty tables and one plain sentence per arm and claim: supported when the 95% paired bootstrap
 * interval excludes zero and the sign-flip permutation p-value is below 0.05, not supported otherwise.
 */
function uncertaintySection(summary: Summary, interventions: string[], opts: ReportOptions): string[] {
  const out: string[] = [];
  const arms = Object.entries(summary.arms);
  out.push('## Uncertainty', '');
  out.push('Reward means with 95% confidence intervals clustered by prefix:', '');
  out.push(row(['Arm', 'Condition', 'Reward mean', '95% CI', 'Prefixes', 'Invalid judge rate']));
  out.push(row(['---', '---', '---:', '---:', '---:', '---:']));
  for (const [arm, m] of arms) {
    for (const [cond, c] of Object.entries(m.conditions)) {
      out.push(row([code(arm), code(cond), formatRate(c.rewardMean), fmtCI(c.rewardMeanCI), String(c.prefixes), formatRate(c.invalidJudgeRate)]));
    }
  }
  out.push('');
  if (interventions.length === 0) return out;
  out.push('Sensitivity (normal minus intervention, per prefix) with a paired bootstrap over prefixes (10,000 draws), a sign-flip permutation test, an exact sign test on the prefix wins and an exact McNemar test on prefix-level any-success:', '');
  out.push(row(['Arm', 'Intervention', 'Sensitivity', '95% CI', 'p (permutation)', 'Wins / losses / ties', 'p (sign test)', 'p (McNemar)']));
  out.push(row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const [arm, m] of arms) {
    for (const c of interventions) {
      const sens = m.sensitivity[c];
      const w = m.winRates[c];
      if (!sens || !w) continue;
      const k = (x: number | null) => (x === null ? '-' : String(Math.round(x * w.prefixes)));
      out.push(row([code(arm), code(c), formatSigned(sens.mean), fmtCI(sens.ci), fmtP(sens.pPermutation), `${k(w.normalBetter)} / ${k(w.interventionBetter)} / ${k(w.tie)}`, fmtP(w.pSignTest), fmtP(w.pMcNemarAnySuccess)]));
    }
  }
  out.push('');
  if ((summary.armComparisons ?? []).length > 0) {
    out.push(`Arms compared under \`${BASELINE}\` (first minus second, paired by prefix):`, '');
    out.push(row(['Arm A', 'Arm B', 'A - B', '95% CI', 'p (permutation)', 'A better / B better / ties', 'p (sign test)']));
    out.push(row(['---', '---', '---:', '---:', '---:', '---:', '---:']));
    for (const c of summary.armComparisons) {
      out.push(row([code(c.armA), code(c.armB), formatSigned(c.mean), fmtCI(c.ci), fmtP(c.pPermutation), `${c.aBetter} / ${c.bBetter} / ${c.tie}`, fmtP(c.pSignTest)]));
    }
    out.push('');
  }
  out.push('## What this run supports', '');
  out.push(`A claim is supported when the 95% paired bootstrap interval excludes zero and the permutation p-value is below ${ALPHA}.`, '');
  for (const c of interventions) {
    const claim = CLAIM[c] ?? (isConfigured(summary, c) ? `its own thought beats ${code(c)}` : undefined);
    if (!claim) continue;
    const reverse = REVERSE[c] ?? `${code(c)} beats its own thought`;
    for (const [arm, m] of arms) {
      const sens = m.sensitivity[c];
      if (!sens || sens.mean === null || !sens.ci) continue;
      const evidence = `sensitivity ${formatSigned(sens.mean)}, 95% CI ${fmtCI(sens.ci)}, p = ${fmtP(sens.pPermutation)}, ${sens.prefixes} prefixes`;
      const significant = sens.pPermutation !== null && sens.pPermutation < ALPHA;
      let verdict: string;
      let supported = sens.ci[0] > 0 && significant;
      if (supported) verdict = `${claim}: supported`;
      else if (sens.ci[1] < 0 && significant) verdict = `${claim}: not supported; the reverse is (${reverse})`;
      else verdict = `${claim}: not supported (the interval includes zero or p >= ${ALPHA})`;
      // With several judges a claim is supported only if it is under every one of them.
      const under = summary.judgeAgreement?.judges ? judgedClaim(summary.judgeAgreement.judges.names, summary.judgeAgreement.judges.sensitivity[arm]?.[c]) : undefined;
      if (under && supported && under.not.length > 0) {
        supported = false;
        verdict = `${claim}: not supported: it holds under ${under.holds.map(code).join(', ')} but not under ${under.not.map(code).join(', ')}`;
      } else if (under && supported) verdict += ` under every judge (${under.holds.map(code).join(', ')})`;
      else if (under && under.holds.length > 0) verdict += `; it holds under ${under.holds.map(code).join(', ')} only`;
      out.push(`- ${code(arm)}: ${verdict} (${evidence}).`);
      const p = opts.power?.[arm]?.[c];
      if (p && !supported) out.push(`  - ${howManyPrefixes(p)}`);
    }
  }
  const pairs = summary.armComparisons ?? [];
  for (const c of pairs) {
    if (c.mean === null || !c.ci) continue;
    const evidence = `difference ${formatSigned(c.mean)}, 95% CI ${fmtCI(c.ci)}, p = ${fmtP(c.pPermutation)}, ${c.prefixes} prefixes`;
    const significant = c.pPermutation !== null && c.pPermutation < ALPHA;
    let verdict: string;
    if (c.ci[0] > 0 && significant) verdict = `${code(c.armA)} beats ${code(c.armB)} under ${code(c.condition)}: supported`;
    else if (c.ci[1] < 0 && significant) verdict = `${code(c.armB)} beats ${code(c.armA)} under ${code(c.condition)}: supported`;
    else verdict = `${code(c.armA)} and ${code(c.armB)} differ under ${code(c.condition)}: not supported (the interval includes zero or p >= ${ALPHA})`;
    out.push(`- ${verdict} (${evidence}).`);
  }
  out.push('');
  return out;
}

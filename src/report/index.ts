// report.html: one self-contained page (inline SVG charts, inline CSS and one inline script, nothing fetched
// at view time) with the reward means, the sensitivities as a forest plot, a prefix × condition heatmap per
// arm and a sample browser over a compact index (./sampleBrowser). Charts are vega-lite specs rendered to SVG
// by vega, headless. `thought-probe view` serves the same page with its own, server-paged, samples section.
import { formatRate, formatSigned, formatWords } from '../experiment/format';
import type { Summary } from '../experiment/summary';
import { BASELINE } from '../experiment/conditions';
import { tallyRecords, type RecordTally } from '../experiment/tally';
import { forestSpec, HEATMAP_MAX_PREFIXES, heatmapSpec, rewardSpec, truncationSpec, type ReportRecord } from './charts';
import { esc, scriptHash } from './html';
import { renderCharts, type VegaLiteSpec } from './vega';
import { SAMPLE_BROWSER_SCRIPT, SAMPLE_BROWSER_STYLE, sampleBrowserHtml } from './sampleBrowser';
import { buildSampleIndex, type SampleIndex } from './sampleIndex';

export { SampleIndexBuilder, SampleTextMeter, SAMPLE_TEXT_BUDGET, type SampleIndex } from './sampleIndex';

export type { ReportRecord } from './charts';

/** Options of the HTML report. */
export interface ReportHtmlOptions {
  /** The true suffix of each prefix id (the run's dataset rows); shown in the table when given. */
  truth?: Record<string, string>;
  /** The text of each prefix id; shown in the sample view when given. */
  prefixText?: Record<string, string>;
  /** Distinct sample text the file holds before it keeps a sample of prefixes (default SAMPLE_TEXT_BUDGET). */
  sampleTextBudget?: number;
  /** HTML that replaces the sample browser (`thought-probe view` serves its samples from the server), with no script. */
  samplesHtml?: string;
  /** HTML put under the title (`view`'s navigation and a running run's progress). */
  headerHtml?: string;
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 1.5rem; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.banner { background: #fff3cd; border: 2px solid #d39e00; color: #5c4400; font-weight: 700; padding: .6rem .9rem; margin: .8rem 0; border-radius: 4px; }
.scale { display: flex; flex-wrap: wrap; gap: .4rem 1.5rem; padding: 0; list-style: none; margin: .5rem 0; }
figure.chart { margin: .5rem 0 1rem; overflow-x: auto; }
.heatmaps { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.heatmaps figure.chart { margin: 0; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid #ddd; padding: .25rem .45rem; vertical-align: top; text-align: left; }
th { background: #f4f4f4; position: sticky; top: 0; z-index: 1; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: .3rem 0 1rem; }
.muted { color: #777; }
`;

const rate = (x: number | null | undefined): string => formatRate(x ?? null);
const ci = (c: [number, number] | null | undefined): string => (c ? `[${formatRate(c[0])}, ${formatRate(c[1])}]` : 'n/a');
const pval = (p: number | null | undefined): string => (p === null || p === undefined ? 'n/a' : p < 0.0001 ? '<0.0001' : formatRate(p));

function table(head: string[], rows: string[][], numeric: number[] = []): string {
  const cls = (i: number) => (numeric.includes(i) ? ' class="num"' : '');
  return [
    '<table>',
    `<thead><tr>${head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

function figure(name: string, svg: string, attrs = ''): string {
  return `<figure class="chart" data-chart="${esc(name)}"${attrs}>${svg}</figure>`;
}

function rewardNumbers(summary: Summary): string {
  const rows = Object.entries(summary.arms).flatMap(([arm, m]) =>
    Object.entries(m.conditions).map(([cond, c]) => [arm, cond, rate(c.rewardMean), ci(c.rewardMeanCI), rate(c.anySuccessPrefixRate), formatWords(c.avgThoughtWords), formatWords(c.avgSuffixWords), String(c.prefixes), String(c.n), rate(c.invalidJudgeRate)]),
  );
  return table(['Arm', 'Condition', 'Reward mean', '95% CI', 'Any-success prefix rate', 'Avg thought words', 'Avg suffix words', 'Prefixes', 'Records', 'Invalid judge rate'], rows, [2, 3, 4, 5, 6, 7, 8, 9]);
}

function sensitivityNumbers(summary: Summary): string {
  const rows = Object.entries(summary.arms).flatMap(([arm, m]) =>
    Object.entries(m.sensitivity).map(([c, s]) => {
      const w = m.winRates[c];
      const k = (x: number | null | undefined) => (x === null || x === undefined || !w ? '-' : String(Math.round(x * w.prefixes)));
      return [arm, c, formatSigned(s.mean), ci(s.ci), pval(s.pPermutation), `${k(w?.normalBetter)} / ${k(w?.interventionBetter)} / ${k(w?.tie)}`, pval(w?.pSignTest), pval(w?.pMcNemarAnySuccess), String(s.prefixes)];
    }),
  );
  return table(['Arm', 'Intervention', 'Sensitivity', '95% CI', 'p (permutation)', 'Normal wins / losses / ties', 'p (sign test)', 'p (McNemar)', 'Prefixes'], rows, [2, 3, 4, 5, 6, 7, 8]);
}

/** Renders report.html from a summary and the records it was computed from. */
export async function renderReportHtml(summary: Summary, records: ReportRecord[], opts: ReportHtmlOptions = {}): Promise<string> {
  const tally = tallyRecords(records);
  const sampleIndex = opts.samplesHtml === undefined
    ? buildSampleIndex(records, { runId: summary.runId, truth: opts.truth, prefixText: opts.prefixText, budget: opts.sampleTextBudget })
    : undefined;
  return renderReportPage(summary, tally, { ...opts, sampleIndex });
}

/** A chart of the page that could not be drawn, and why. */
export interface LeftOutChart {
  chart: string;
  error: string;
}

/**
 * Renders report.html from a summary, the tally of its records (the charts need nothing more) and the sample index
 * (unless `samplesHtml` replaces the browser). A chart that cannot be drawn is left out with its reason on the page
 * (and in `leftOut`), and the rest of the page is written all the same.
 */
export async function renderReportPage(summary: Summary, tally: RecordTally, opts: ReportHtmlOptions & { sampleIndex?: SampleIndex; leftOut?: LeftOutChart[] } = {}): Promise<string> {
  const arms = [...new Set([...Object.keys(summary.arms), ...tally.armNames()])];
  const prefixes = tally.prefixOrder();
  const reward = rewardSpec(summary);
  const forest = forestSpec(summary);
  const truncation = truncationSpec(summary);
  const heatArms = arms.filter((a) => tally.arms.has(a));
  const named: { name: string; spec: VegaLiteSpec }[] = [
    ...(reward ? [{ name: 'reward', spec: reward }] : []),
    ...(forest ? [{ name: 'sensitivity', spec: forest }] : []),
    ...(truncation ? [{ name: 'truncation', spec: truncation }] : []),
    ...heatArms.map((a) => ({ name: `heatmap of ${a}`, spec: heatmapSpec(a, tally, prefixes, prefixes.length > HEATMAP_MAX_PREFIXES) })),
  ];
  const drawn = await renderCharts(named.map((n) => n.spec));
  const leftOut = opts.leftOut ?? [];
  const charts = drawn.map((c, i) => {
    if ('svg' in c) return { svg: c.svg };
    leftOut.push({ chart: named[i]!.name, error: c.error });
    return { error: c.error, name: named[i]!.name };
  });
  // A chart that could not be drawn says so where it would have been.
  const place = (name: string, c: { svg?: string; error?: string } | null, attrs = ''): string =>
    !c ? '' : c.svg !== undefined ? figure(name, c.svg, attrs) : `<p class="muted left-out" data-chart-left-out="${esc(name)}">Left out: this chart could not be drawn (${esc(c.error)}). The numbers below are complete.</p>`;
  let next = 0;
  const rewardSvg = reward ? charts[next++]! : null;
  const forestSvg = forest ? charts[next++]! : null;
  const truncationSvg = truncation ? charts[next++]! : null;
  const heatSvgs = heatArms.map(() => charts[next++]!);

  const s = summary.scale;
  const script = opts.samplesHtml === undefined;
  const csp = `default-src 'none'; script-src ${script ? scriptHash(SAMPLE_BROWSER_SCRIPT) : "'none'"}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action ${script ? "'none'" : "'self'"}`;
  const out: string[] = [];
  out.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Thought-use probe: ${esc(summary.runId)}</title>`,
    `<style>${STYLE}${SAMPLE_BROWSER_STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>Thought-use probe: <code>${esc(summary.runId)}</code></h1>`,
    ...(opts.headerHtml ? [opts.headerHtml] : []),
  );
  if (summary.simulated) {
    out.push('<div class="banner" id="simulation-banner" role="alert">SIMULATION: these numbers come from simulated endpoints, not from real models.</div>');
  }
  if (summary.runIds.length > 1) out.push(`<p>Records from runs: ${summary.runIds.map((id) => `<code>${esc(id)}</code>`).join(', ')}.</p>`);
  out.push(
    '<ul class="scale">',
    `<li>Arms: <b>${esc(s.arms)}</b></li>`,
    `<li>Prefixes: <b>${esc(s.prefixes)}</b></li>`,
    `<li>Samples per prefix: <b>${esc(s.samplesPerPrefix)}</b></li>`,
    `<li>Judged suffixes: <b>${esc(s.judgedSuffixes.toLocaleString('en-US'))}</b></li>`,
    `<li>Invalid judge rate: <b>${esc(formatRate(s.invalidJudgeRate))}</b> (${esc(s.invalid)} invalid)</li>`,
    '</ul>',
  );

  out.push('<h2 id="reward">Reward mean</h2>');
  out.push(rewardSvg ? place('reward', rewardSvg) : '<p class="muted">No valid rewards to chart.</p>');
  out.push('<details><summary>Numbers</summary>', rewardNumbers(summary), '</details>');

  out.push('<h2 id="sensitivity">Causal sensitivity</h2>');
  if (forestSvg) {
    out.push(`<p>Prefix-level <code>${esc(BASELINE)} − intervention</code>: positive means the arm's own thought helped relative to the intervention.</p>`);
    out.push(place('sensitivity', forestSvg));
    out.push('<details><summary>Numbers</summary>', sensitivityNumbers(summary), '</details>');
  } else {
    out.push(`<p class="muted">Left out: no intervention was run next to <code>${esc(BASELINE)}</code>.</p>`);
  }

  // Only runs with two or more truncation keeps have a curve; other reports are what they were.
  if (truncationSvg) {
    out.push('<h2 id="truncation">Truncation curve</h2>');
    out.push('<p>Reward mean when the suffix is sampled after the first words of the arm\'s own thought (Lanham et al. 2023): a flat curve means the answer was fixed early in the thought.</p>');
    out.push(place('truncation', truncationSvg));
  }

  out.push('<h2 id="heatmaps">Prefix × condition reward, per arm</h2>');
  if (prefixes.length > HEATMAP_MAX_PREFIXES) {
    out.push(`<p class="muted" id="heatmaps-binned">With ${esc(prefixes.length.toLocaleString('en-US'))} prefixes, more than the ${HEATMAP_MAX_PREFIXES} a row per prefix stays readable for, every arm's heatmap counts its prefixes by their mean reward under each condition, in tenths (samples.jsonl and <code>thought-probe view</code> have every prefix).</p>`);
  }
  out.push('<div class="heatmaps">');
  heatArms.forEach((arm, i) => out.push(place('heatmap', heatSvgs[i]!, ` data-arm="${esc(arm)}"`)));
  out.push('</div>');

  if (script) {
    if (!opts.sampleIndex) throw new Error('renderReportPage: a page with the sample browser needs its sampleIndex');
    out.push(sampleBrowserHtml(opts.sampleIndex), `<script>${SAMPLE_BROWSER_SCRIPT}</script>`);
  } else {
    out.push(opts.samplesHtml!);
  }
  out.push('</body>', '</html>', '');
  return out.join('\n');
}

// The report's vega-lite specs, built from summary.json and the records. Pure data in, JSON specs out.
import { BASELINE, shortCondition } from '../experiment/conditions';
import { orderConditions } from '../experiment/metrics';
import type { Summary } from '../experiment/summary';
import { tallyRecords, type RecordTally } from '../experiment/tally';
import type { VegaLiteSpec } from './vega';

/** What the report reads of a record: the fields samples.jsonl must have, and optionally its prefix index and error. */
export interface ReportRecord {
  arm: string;
  condition: string;
  prefixId: string;
  sample: number;
  thought: string;
  suffix: string;
  reward: 0 | 1 | null;
  judge: { valid: boolean; raw: string; attempts: number };
  prefixIndex?: unknown;
  error?: unknown;
}

const FONT = { font: 'sans-serif', background: 'white' };

/** Prefix ids in the run's order: by prefixIndex where records carry one, then by first appearance. */
export function prefixOrder(records: ReportRecord[]): string[] {
  return tallyRecords(records).prefixOrder();
}

/** Reward mean per arm and condition, as bars with their 95% cluster confidence interval. */
export function rewardSpec(summary: Summary): VegaLiteSpec | null {
  const arms = Object.keys(summary.arms);
  const conds = orderConditions(arms.flatMap((a) => Object.keys(summary.arms[a]!.conditions)));
  const values = arms.flatMap((arm) =>
    Object.entries(summary.arms[arm]!.conditions)
      .filter(([, c]) => c.rewardMean !== null)
      .map(([condition, c]) => ({ arm, condition, mean: c.rewardMean, lo: c.rewardMeanCI?.[0] ?? null, hi: c.rewardMeanCI?.[1] ?? null })),
  );
  if (values.length === 0) return null;
  const top = Math.max(...values.map((v) => Math.max(v.mean ?? 0, v.hi ?? 0)));
  const longest = Math.max(...arms.map((a) => a.length));
  return {
    config: FONT,
    title: { text: 'Reward mean by arm and condition', subtitle: '95% confidence interval, clustered by prefix' },
    data: { values },
    width: { step: 22, for: 'offset' },
    height: 260,
    encoding: {
      x: { field: 'arm', type: 'nominal', sort: arms, title: 'Arm', axis: { labelAngle: longest * 6 > 22 * conds.length ? -25 : 0, labelLimit: 240 } },
      xOffset: { field: 'condition', type: 'nominal', sort: conds },
    },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: 'Reward mean', scale: { domain: [0, Math.min(1, Math.max(0.05, top * 1.1))] } },
          color: { field: 'condition', type: 'nominal', sort: conds, title: 'Condition', legend: { labelLimit: 320 } },
        },
      },
      {
        transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }],
        mark: { type: 'errorbar', ticks: true, color: '#222' },
        encoding: { y: { field: 'lo', type: 'quantitative', title: 'Reward mean' }, y2: { field: 'hi' } },
      },
    ],
  };
}

/** The sensitivities of every arm × intervention as a forest plot: mean, bootstrap CI, a line at zero. */
export function forestSpec(summary: Summary): VegaLiteSpec | null {
  const arms = Object.keys(summary.arms);
  const interventions = orderConditions(arms.flatMap((a) => Object.keys(summary.arms[a]!.sensitivity)));
  const values = arms.flatMap((arm) =>
    Object.entries(summary.arms[arm]!.sensitivity)
      .filter(([, s]) => s.mean !== null)
      .map(([intervention, s]) => ({ arm, intervention, mean: s.mean, lo: s.ci?.[0] ?? null, hi: s.ci?.[1] ?? null })),
  );
  if (values.length === 0) return null;
  const y = { field: 'arm', type: 'nominal', sort: arms, title: 'Arm' };
  const yOffset = { field: 'intervention', type: 'nominal', sort: interventions };
  const color = { field: 'intervention', type: 'nominal', sort: interventions, title: 'Intervention', legend: { labelLimit: 320 } };
  // The axis always reaches zero, the line every interval is read against, and a little past the widest interval.
  const ends = values.flatMap((v) => [v.mean!, ...(v.lo !== null && v.hi !== null ? [v.lo, v.hi] : [])]);
  const lo = Math.min(0, ...ends);
  const hi = Math.max(0, ...ends);
  const pad = Math.max(0.01, (hi - lo) * 0.05);
  const x = { type: 'quantitative', title: `Sensitivity: ${BASELINE} − intervention`, scale: { domain: [lo - (lo < 0 ? pad : 0), hi + (hi > 0 ? pad : 0)], nice: true } };
  return {
    config: FONT,
    title: { text: 'Causal sensitivity per arm and intervention', subtitle: 'mean prefix difference, 95% paired bootstrap interval over prefixes' },
    width: 460,
    height: { step: 16, for: 'offset' },
    data: { values },
    layer: [
      { data: { values: [{ zero: 0 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#666' }, encoding: { x: { field: 'zero', ...x } } },
      {
        transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }],
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: { y, yOffset, x: { field: 'lo', ...x }, x2: { field: 'hi' }, color },
      },
      { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { y, yOffset, x: { field: 'mean', ...x }, color } },
    ],
  };
}

/**
 * Above this many prefixes an arm's heatmap stops drawing a row per prefix (which would be a barcode, and which vega
 * cannot compile at a few thousand rows) and bins the prefixes by their mean reward instead.
 */
export const HEATMAP_MAX_PREFIXES = 200;

/** One prefix under one arm × condition: its records, its valid ones and the sum of their rewards. */
interface HeatCell {
  n: number;
  valid: number;
  sum: number;
}

/**
 * One arm's heatmap: a row per prefix up to HEATMAP_MAX_PREFIXES, the prefixes binned by mean reward above (or as
 * `binned` says: a report bins every arm's when the run has more prefixes than that, so that its note holds for all).
 */
export function heatmapSpec(arm: string, tally: RecordTally, prefixes: string[], binned?: boolean): VegaLiteSpec {
  const own = tally.arms.get(arm)?.conditions ?? new Map();
  const conds = orderConditions(own.keys());
  const cellOf = (prefix: string, condition: string): HeatCell | undefined => {
    const c = own.get(condition)?.main.cells.get(prefix);
    return c ? { n: c.n, valid: c.rewards.length, sum: c.rewards.reduce((a: number, b: number) => a + b, 0) } : undefined;
  };
  const ownPrefixes = prefixes.filter((p) => conds.some((c) => own.get(c)?.main.cells.has(p)));
  if (binned ?? ownPrefixes.length > HEATMAP_MAX_PREFIXES) return binnedHeatmapSpec(arm, conds, ownPrefixes, cellOf);
  const values = ownPrefixes.flatMap((prefix) =>
    conds.flatMap((condition) => {
      const c = cellOf(prefix, condition);
      return c ? [{ prefix, condition: shortCondition(condition), mean: c.valid ? c.sum / c.valid : null, valid: c.valid, n: c.n }] : [];
    }),
  );
  const step = Math.max(3, Math.min(14, Math.floor(1400 / Math.max(1, ownPrefixes.length))));
  const shortConds = conds.map(shortCondition);
  const layer: unknown[] = [
    { mark: { type: 'rect', color: '#e4e4e4' } },
    {
      transform: [{ filter: 'isValid(datum.mean)' }],
      mark: 'rect',
      encoding: { color: { field: 'mean', type: 'quantitative', title: 'Prefix mean', scale: { domain: [0, 1], scheme: 'blues' } } },
    },
  ];
  if (step >= 12) {
    layer.push({
      transform: [{ filter: 'isValid(datum.mean)' }],
      mark: { type: 'text', fontSize: 9 },
      encoding: { text: { field: 'mean', type: 'quantitative', format: '.2f' }, color: { condition: { test: 'datum.mean > 0.6', value: 'white' }, value: 'black' } },
    });
  }
  return {
    config: FONT,
    title: { text: arm, subtitle: 'prefix mean reward' },
    data: { values },
    width: { step: 64 },
    height: { step },
    encoding: {
      x: { field: 'condition', type: 'nominal', sort: shortConds, title: null, axis: { orient: 'top', labelAngle: 0 } },
      y: { field: 'prefix', type: 'nominal', sort: ownPrefixes, title: 'Prefix', axis: step >= 8 ? {} : { labels: false, ticks: false } },
    },
    layer,
  };
}

/** The bins of the binned heatmap, top row first: tenths of the prefix mean reward, and prefixes with no valid reward. */
export const HEATMAP_BINS = [...Array.from({ length: 10 }, (_, i) => `${((9 - i) / 10).toFixed(1)}–${((10 - i) / 10).toFixed(1)}`), 'no valid reward'];

/** The bin of a prefix mean (the last bin, 0.9–1.0, is closed). */
export function heatmapBin(mean: number | null): string {
  if (mean === null) return HEATMAP_BINS[10]!;
  return HEATMAP_BINS[9 - Math.min(9, Math.floor(mean * 10 + 1e-9))]!;
}

/** Prefixes per condition and bin of prefix mean reward: ten bins and one for prefixes without a valid reward. */
function binnedHeatmapSpec(arm: string, conds: string[], prefixes: string[], cellOf: (p: string, c: string) => HeatCell | undefined): VegaLiteSpec {
  const values = conds.flatMap((condition) => {
    const counts = new Map<string, number>();
    let total = 0;
    for (const p of prefixes) {
      const c = cellOf(p, condition);
      if (!c) continue;
      total++;
      const bin = heatmapBin(c.valid ? c.sum / c.valid : null);
      counts.set(bin, (counts.get(bin) ?? 0) + 1);
    }
    return HEATMAP_BINS.map((bin) => ({ condition: shortCondition(condition), bin, prefixes: counts.get(bin) ?? 0, share: total ? (counts.get(bin) ?? 0) / total : 0 }));
  });
  return {
    config: FONT,
    title: { text: arm, subtitle: `${prefixes.length.toLocaleString('en-US')} prefixes, counted by prefix mean reward` },
    data: { values },
    width: { step: 64 },
    height: { step: 22 },
    encoding: {
      x: { field: 'condition', type: 'nominal', sort: conds.map(shortCondition), title: null, axis: { orient: 'top', labelAngle: 0 } },
      y: { field: 'bin', type: 'nominal', sort: HEATMAP_BINS, title: 'Prefix mean reward' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'share', type: 'quantitative', title: 'Share of prefixes', scale: { domain: [0, 1], scheme: 'blues' } } } },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: { text: { field: 'prefixes', type: 'quantitative', format: ',d' }, color: { condition: { test: 'datum.share > 0.6', value: 'white' }, value: 'black' } },
      },
    ],
  };
}

/** The truncation curve's points: reward mean against the share of the thought kept (0 blank, 1 normal), per arm. */
export function truncationPoints(summary: Summary): { arm: string; keep: number; condition: string; mean: number; lo: number | null; hi: number | null }[] {
  const keeps = Object.entries(summary.interventions ?? {}).flatMap(([name, i]) => (i.intervention === 'truncated_thought' && typeof i.keep === 'number' ? [{ name, keep: i.keep }] : []));
  if (new Set(keeps.map((k) => k.keep)).size < 2) return [];
  const points = [{ name: 'blank_thought', keep: 0 }, ...keeps, { name: BASELINE, keep: 1 }];
  return Object.entries(summary.arms).flatMap(([arm, m]) =>
    points.flatMap(({ name, keep }) => {
      const c = m.conditions[name];
      return c && c.rewardMean !== null ? [{ arm, keep, condition: name, mean: c.rewardMean, lo: c.rewardMeanCI?.[0] ?? null, hi: c.rewardMeanCI?.[1] ?? null }] : [];
    }),
  );
}

/** Reward mean against the share of the thought kept, one line per arm, when two or more keeps ran (else null). */
export function truncationSpec(summary: Summary): VegaLiteSpec | null {
  const values = truncationPoints(summary);
  if (values.length === 0) return null;
  const arms = Object.keys(summary.arms);
  const x = { field: 'keep', type: 'quantitative', title: 'Share of the thought kept (0 = blank, 1 = own thought)', scale: { domain: [0, 1] } };
  const color = { field: 'arm', type: 'nominal', sort: arms, title: 'Arm', legend: { labelLimit: 320 } };
  return {
    config: FONT,
    title: { text: 'Truncation curve', subtitle: 'reward mean when the thought is cut to its first words; 95% confidence interval, clustered by prefix' },
    width: 460,
    height: 260,
    data: { values },
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'Reward mean' }, color } },
      {
        transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }],
        mark: { type: 'errorbar', ticks: true },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'Reward mean' }, y2: { field: 'hi' }, color },
      },
    ],
  };
}

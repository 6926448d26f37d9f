// The report's vega-lite specs, built from summary.json and the records. Pure data in, JSON specs out.
import { BASELINE, shortCondition } from '../experiment/conditions';
import { orderConditions } from '../experiment/metrics';
import type { Summary } from '../experiment/summary';
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
  const first = new Map<string, { index: number; at: number }>();
  records.forEach((r, at) => {
    const index = typeof r.prefixIndex === 'number' && Number.isFinite(r.prefixIndex) ? r.prefixIndex : Infinity;
    const seen = first.get(r.prefixId);
    if (!seen) first.set(r.prefixId, { index, at });
    else if (index < seen.index) seen.index = index;
  });
  return [...first].sort(([, a], [, b]) => a.index - b.index || a.at - b.at).map(([id]) => id);
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
  const x = { type: 'quantitative', title: `Sensitivity: ${BASELINE} − intervention` };
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

/** One arm's prefix × condition heatmap of prefix mean rewards (grey where a prefix has no valid record). */
export function heatmapSpec(arm: string, records: ReportRecord[], prefixes: string[]): VegaLiteSpec {
  const own = records.filter((r) => r.arm === arm);
  const conds = orderConditions(own.map((r) => r.condition));
  const cells = new Map<string, { sum: number; valid: number; n: number }>();
  for (const r of own) {
    const key = `${r.prefixId}\u0000${r.condition}`;
    const c = cells.get(key) ?? { sum: 0, valid: 0, n: 0 };
    c.n += 1;
    if (r.reward !== null) {
      c.sum += r.reward;
      c.valid += 1;
    }
    cells.set(key, c);
  }
  const ownPrefixes = prefixes.filter((p) => conds.some((c) => cells.has(`${p}\u0000${c}`)));
  const values = ownPrefixes.flatMap((prefix) =>
    conds.flatMap((condition) => {
      const c = cells.get(`${prefix}\u0000${condition}`);
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

/**
 * report.html at scale (issue 23), in process: the heatmap draws a row per prefix up to HEATMAP_MAX_PREFIXES (200) and
 * bins prefixes by mean reward above it (3,000 prefixes render); the forest plot's axis reaches zero even when every
 * interval lies below it; and a chart that cannot be drawn is left out with its reason while the rest of the page is
 * written. Jest renders vega in a worker thread (src/report/vega.ts) with the main thread's 1 MB stack: the old
 * per-prefix heatmap of thousands of prefixes overflows there, as it did in a worker process.
 */
import { spawnSync } from 'node:child_process';
import { buildSummary } from '../../src/experiment/summary';
import { scoreRecord } from '../../src/experiment/metrics';
import type { SampleRecord } from '../../src/experiment/records';
import { renderReportHtml, renderReportPage, type LeftOutChart } from '../../src/report';
import { forestSpec, HEATMAP_MAX_PREFIXES } from '../../src/report/charts';
import { renderCharts, type VegaLiteSpec } from '../../src/report/vega';
import { tallyRecords } from '../../src/experiment/tally';
import { NaiveStats, seededRandom, synthRecord } from '../helpers/scale-records';

// renderCharts as it is, unless a test swaps a spec for one that cannot be drawn (then the real renderer fails on it).
jest.mock('../../src/report/vega', () => {
  const actual = jest.requireActual('../../src/report/vega');
  return { ...actual, renderCharts: jest.fn(actual.renderCharts) };
});

const CONDITIONS = ['normal_model_thought', 'blank_thought'];
const SHORT: Record<string, string> = { normal_model_thought: 'normal', blank_thought: 'blank' };

/** Records of one arm over `prefixes` prefixes, two samples each, under normal and blank; prefix difficulty varies. */
function records(prefixes: number, seed: number, arm = 'think_base'): SampleRecord[] {
  const rand = seededRandom(seed);
  const out: SampleRecord[] = [];
  const ease = Array.from({ length: prefixes }, () => rand());
  for (const condition of CONDITIONS) {
    for (let i = 0; i < prefixes; i++) {
      for (let k = 0; k < 2; k++) {
        out.push(synthRecord(rand, {
          runId: 'scale', arm, condition, prefixIndex: i, prefixId: `doc-${String(i).padStart(5, '0')}`, sample: k,
          p: condition === 'normal_model_thought' ? ease[i]! : ease[i]! * 0.6, invalidRate: 0.15,
        }));
      }
    }
  }
  return out;
}

const naive = (rs: SampleRecord[]) => {
  const s = new NaiveStats();
  for (const r of rs) s.add(r);
  return s;
};

async function page(rs: SampleRecord[], opts: { leftOut?: LeftOutChart[] } = {}): Promise<string> {
  const summary = buildSummary(rs.map(scoreRecord), { runId: 'scale' });
  if (opts.leftOut) return renderReportPage(summary, tallyRecords(rs), { samplesHtml: '<p id="no-browser"></p>', leftOut: opts.leftOut });
  return renderReportHtml(summary, rs);
}

/** The SVG of the chart figure named `name` (and arm), or undefined. */
function figureSvg(html: string, name: string, arm?: string): string | undefined {
  const attrs = `data-chart="${name}"${arm ? ` data-arm="${arm}"` : ''}`;
  const m = new RegExp(`<figure class="chart" ${attrs}>(<svg[\\s\\S]*?</svg>)</figure>`).exec(html);
  return m?.[1];
}

/** The aria-labels of the items of one vega mark group (`layer_0_marks`, ...) of a mark type. */
function markLabels(svg: string, mark: 'rect' | 'text' | 'rule', layer: number): string[] {
  const g = new RegExp(`<g class="mark-${mark} role-mark layer_${layer}_marks"[^>]*>([\\s\\S]*?)</g>`).exec(svg);
  if (!g) return [];
  return [...g[1]!.matchAll(/aria-label="([^"]*)"/g)].map((m) => m[1]!);
}

/** Parses `key: value; key: value` (a vega item's aria-label). */
const fields = (label: string): Record<string, string> => Object.fromEntries(label.split('; ').map((kv) => [kv.slice(0, kv.indexOf(': ')), kv.slice(kv.indexOf(': ') + 2)]));

/** The bin label of a prefix mean ones/valid, in tenths, computed without floating-point rounding at bin edges. */
function binOf(p: { valid: number; ones: number } | undefined): string {
  if (!p || p.valid === 0) return 'no valid reward';
  const tenth = Math.min(9, Math.floor((10 * p.ones) / p.valid));
  return `${(tenth / 10).toFixed(1)}–${((tenth + 1) / 10).toFixed(1)}`;
}

function expectBinned(html: string, rs: SampleRecord[], prefixes: number): void {
  expect(html).toContain('id="heatmaps-binned"');
  expect(html).not.toContain('data-chart-left-out');
  const svg = figureSvg(html, 'heatmap', 'think_base');
  expect(svg).toBeDefined();
  // No row per prefix: no item names a prefix.
  expect(svg).not.toMatch(/Prefix: doc-/);
  expect(svg).toContain(`${prefixes.toLocaleString('en-US')} prefixes, counted by prefix mean reward`);
  // The counts drawn are those of the naive binning, per condition and bin, and add up to every prefix.
  const stats = naive(rs);
  const drawn = new Map<string, number>();
  for (const l of markLabels(svg!, 'text', 1)) {
    const f = fields(l);
    drawn.set(`${f.condition}|${f['Prefix mean reward']}`, Number(f.prefixes!.replace(/,/g, '')));
  }
  const expected = new Map<string, number>();
  for (const c of CONDITIONS) {
    const cells = stats.condition('think_base', c).prefixes;
    for (const bin of ['0.9–1.0', '0.8–0.9', '0.7–0.8', '0.6–0.7', '0.5–0.6', '0.4–0.5', '0.3–0.4', '0.2–0.3', '0.1–0.2', '0.0–0.1', 'no valid reward']) expected.set(`${SHORT[c]}|${bin}`, 0);
    for (const p of cells.values()) expected.set(`${SHORT[c]}|${binOf(p)}`, expected.get(`${SHORT[c]}|${binOf(p)}`)! + 1);
  }
  expect(Object.fromEntries(drawn)).toEqual(Object.fromEntries(expected));
  for (const c of CONDITIONS) expect([...drawn].filter(([k]) => k.startsWith(`${SHORT[c]}|`)).reduce((n, [, v]) => n + v, 0)).toBe(prefixes);
}

describe('the heatmap switches from a row per prefix to bins above HEATMAP_MAX_PREFIXES', () => {
  test('the switch is at 200 prefixes', () => {
    expect(HEATMAP_MAX_PREFIXES).toBe(200);
  });

  test('200 prefixes: a row per prefix, each cell the prefix mean, no binned note', async () => {
    const rs = records(200, 11);
    const html = await page(rs);
    expect(html).not.toContain('id="heatmaps-binned"');
    expect(html).not.toContain('data-chart-left-out');
    const svg = figureSvg(html, 'heatmap', 'think_base');
    expect(svg).toBeDefined();
    // The grey background layer: one rect per prefix × condition, in a row per prefix.
    const background = markLabels(svg!, 'rect', 0).map(fields);
    expect(background).toHaveLength(200 * CONDITIONS.length);
    const ids = [...new Set(rs.map((r) => r.prefixId))];
    expect(new Set(background.map((f) => f.Prefix))).toEqual(new Set(ids));
    const layer0 = /<g class="mark-rect role-mark layer_0_marks"[^>]*>([\s\S]*?)<\/g>/.exec(svg!)![1]!;
    const rowsY = new Set([...layer0.matchAll(/ d="M[-\d.]+,([-\d.]+)h/g)].map((m) => m[1]));
    expect(rowsY.size).toBe(200);
    // The coloured layer: one rect per prefix × condition with a valid reward, its value the naive prefix mean.
    const stats = naive(rs);
    const cells = markLabels(svg!, 'rect', 1).map(fields);
    const expected = CONDITIONS.flatMap((c) => ids.flatMap((id) => {
      const m = stats.prefixMean('think_base', c, id);
      return m === null ? [] : [`${SHORT[c]}|${id}|${m}`];
    }));
    expect(expected.length).toBeLessThan(200 * CONDITIONS.length); // some prefixes have no valid reward under a condition
    expect(cells.map((f) => `${f.condition}|${f.Prefix}|${Number(f['Prefix mean'])}`).sort()).toEqual(expected.sort());
  });

  test('201 prefixes: binned, the counts per bin those of the prefix means', async () => {
    const rs = records(201, 12);
    expectBinned(await page(rs), rs, 201);
  });

  test('3,000 prefixes: binned, and every chart is drawn', async () => {
    const rs = records(3000, 13);
    const html = await page(rs);
    expectBinned(html, rs, 3000);
    expect(figureSvg(html, 'reward')).toBeDefined();
    expect(figureSvg(html, 'sensitivity')).toBeDefined();
    expect(html).toContain('With 3,000 prefixes, more than the 200');
  }, 60_000);
});

describe('the forest plot', () => {
  test('an interval entirely below zero still has zero on the x axis, where the zero line is drawn', async () => {
    // The arm's own thought hurts: normal mostly 0, blank mostly 1.
    const rand = seededRandom(5);
    const rs: SampleRecord[] = CONDITIONS.flatMap((condition) => Array.from({ length: 40 }, (_, i) => synthRecord(rand, {
      runId: 'neg', arm: 'think_base', condition, prefixIndex: i, prefixId: `neg-${i}`, sample: 0, p: condition === 'normal_model_thought' ? 0.1 : 0.9, invalidRate: 0,
    })));
    const summary = buildSummary(rs.map(scoreRecord), { runId: 'neg' });
    const s = summary.arms.think_base!.sensitivity.blank_thought!;
    expect(s.ci).not.toBeNull();
    expect(s.ci![1]).toBeLessThan(0);

    const spec = forestSpec(summary)!;
    const layers = spec.layer as { encoding: { x: { scale: { domain: [number, number] } } } }[];
    expect(layers.length).toBeGreaterThan(0);
    for (const l of layers) {
      const [lo, hi] = l.encoding.x.scale.domain;
      expect(lo).toBeLessThanOrEqual(s.ci![0]);
      expect(lo).toBeLessThan(0);
      expect(hi).toBeGreaterThanOrEqual(0);
    }

    const html = await page(rs);
    const svg = figureSvg(html, 'sensitivity');
    expect(svg).toBeDefined();
    const axis = /aria-label="X-axis[^"]*"[\s\S]*?<g class="mark-text role-axis-label"[^>]*>([\s\S]*?)<\/g>/.exec(svg!);
    expect(axis).not.toBeNull();
    const ticks = [...axis![1]!.matchAll(/translate\(([-\d.]+),[-\d.]+\)"[^>]*>([^<]*)<\/text>/g)].map((m) => ({ x: Number(m[1]), label: m[2]! }));
    const zero = ticks.find((t) => /^0(\.0+)?$/.test(t.label));
    expect({ labels: ticks.map((t) => t.label), zero: zero !== undefined }).toMatchObject({ zero: true });
    // Every other tick is negative, and the dashed zero rule sits at the zero tick.
    expect(ticks.filter((t) => t !== zero).every((t) => t.label.startsWith('−'))).toBe(true);
    const rule = /<g class="mark-rule role-mark layer_0_marks"[^>]*><line aria-label="[^"]*: 0"[^>]*transform="translate\(([-\d.]+),/.exec(svg!);
    expect(rule).not.toBeNull();
    expect(Number(rule![1])).toBeCloseTo(zero!.x, 6);
  });
});

describe('a chart that cannot be drawn', () => {
  // The old heatmap: a nominal y sorted by an array of 5,000 prefix ids, which overflows vega's expression parser.
  const ids = Array.from({ length: 5000 }, (_, i) => `p-${String(i).padStart(5, '0')}`);
  const OVERFLOWING: VegaLiteSpec = {
    data: { values: ids.map((prefix, i) => ({ prefix, condition: 'normal', mean: (i % 10) / 10 })) },
    mark: 'rect',
    encoding: {
      x: { field: 'condition', type: 'nominal' },
      y: { field: 'prefix', type: 'nominal', sort: ids },
      color: { field: 'mean', type: 'quantitative' },
    },
  };
  const GOOD: VegaLiteSpec = { data: { values: [{ a: 'x', b: 1 }, { a: 'y', b: 2 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } };

  test('here (jest) charts are rendered in a worker thread: the vm has no dynamic import', async () => {
    const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<unknown>;
    await expect(importEsm('node:path')).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING/) });
  });

  test('renderCharts gives its error in its place and draws the others in the same call', async () => {
    const out = await renderCharts([GOOD, OVERFLOWING, GOOD, { ...GOOD, mark: 'no-such-mark' }]);
    expect(out).toHaveLength(4);
    expect(out[0]).toEqual({ svg: expect.stringMatching(/^<svg[\s\S]*<\/svg>$/) });
    expect(out[1]).toEqual({ error: expect.stringMatching(/^RangeError: Maximum call stack size exceeded/) });
    expect(out[2]).toEqual(out[0]);
    expect(out[3]).toEqual({ error: expect.any(String) });
  }, 60_000);

  test('the overflowing spec fails on a plain Node main thread too (what a worker process runs)', () => {
    const script = `
      import { pathToFileURL } from 'node:url';
      import { createRequire } from 'node:module';
      const require = createRequire(${JSON.stringify(`${process.cwd()}/package.json`)});
      const vega = await import(pathToFileURL(require.resolve('vega')).href);
      const vl = await import(pathToFileURL(require.resolve('vega-lite')).href);
      let text = '';
      for await (const chunk of process.stdin) text += chunk;
      const spec = JSON.parse(text);
      try {
        await new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' }).toSVG();
        console.log('drawn');
      } catch (e) { console.log(e.name + ': ' + e.message); }`;
    // The spec goes in on stdin (as an argument it would be over the kernel's 128 KB limit).
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: JSON.stringify(OVERFLOWING), encoding: 'utf8', timeout: 60_000 });
    expect({ error: r.error, status: r.status, stderr: r.stderr }).toEqual({ error: undefined, status: 0, stderr: '' });
    expect(r.stdout.trim()).toBe('RangeError: Maximum call stack size exceeded');
  }, 60_000);

  test('the page leaves it out with its reason and is written all the same', async () => {
    const mocked = renderCharts as jest.MockedFunction<typeof renderCharts>;
    const actual = jest.requireActual<typeof import('../../src/report/vega')>('../../src/report/vega');
    // The forest plot's spec is swapped for one that cannot be drawn; the real renderer draws the rest.
    mocked.mockImplementationOnce((specs) => actual.renderCharts(specs.map((s) => ((s.title as { text?: string } | undefined)?.text?.startsWith('Causal sensitivity') ? OVERFLOWING : s))));
    const rs = records(30, 21);
    const leftOut: LeftOutChart[] = [];
    const html = await page(rs, { leftOut });
    expect(mocked).toHaveBeenCalled();
    expect(leftOut).toEqual([{ chart: 'sensitivity', error: expect.stringMatching(/^RangeError: Maximum call stack size exceeded/) }]);
    expect(html).toMatch(/<p class="muted left-out" data-chart-left-out="sensitivity">Left out: this chart could not be drawn \(RangeError: Maximum call stack size exceeded\)\. The numbers below are complete\.<\/p>/);
    expect(html.match(/data-chart-left-out=/g)).toHaveLength(1);
    expect(figureSvg(html, 'sensitivity')).toBeUndefined();
    // The rest of the page: the other charts, the sensitivity numbers, the end of the document.
    expect(figureSvg(html, 'reward')).toBeDefined();
    expect(figureSvg(html, 'heatmap', 'think_base')).toBeDefined();
    expect(html).toContain('<th>Intervention</th>');
    expect(html).toContain('<p id="no-browser"></p>');
    expect(html.trimEnd().endsWith('</html>')).toBe(true);

    // Without the swap, the same page has no chart left out.
    const whole: LeftOutChart[] = [];
    const again = await page(rs, { leftOut: whole });
    expect(whole).toEqual([]);
    expect(figureSvg(again, 'sensitivity')).toBeDefined();
  }, 60_000);
});

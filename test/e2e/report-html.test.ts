/**
 * End to end: `thought-probe analyze` writes report.html next to report.md; opened from file:// in headless
 * Chromium (Debian's /usr/bin/chromium through playwright-core, every non-file request blocked) it shows
 * every chart with a mark per arm, filters its sample table, logs no error, fetches nothing and runs no
 * text from the records as markup. A second, in-process report (the worker-thread rendering path under jest)
 * checks the SIMULATION banner, the true-suffix column and escaping.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { scoreRecord } from '../../src/experiment/metrics';
import { buildSummary } from '../../src/experiment/summary';
import { renderReportHtml, type ReportRecord } from '../../src/report';
import { NOTE_ARMS, noteRecords, noteRecordsJsonl } from '../fixtures/noteRecords';
import { runCli, show } from '../helpers/e2e-cli';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Where the screenshot goes: outside the repository, kept after the test for a look. */
export const SCREENSHOT = join(tmpdir(), 'thought-probe-report-html.png');

// Texts a model could write, put into records: none may become markup or a request.
const INJECT_THOUGHT = '<img src="x" onerror="window.__pwned = 1"> let me think';
const INJECT_SUFFIX = '</div></td></tr></table><script>window.__pwned = 2</script><a href="https://example.com/">x</a>';
const INJECT_JUDGE = '<svg onload="window.__pwned = 3"></svg>{"score": 0}';

let tmp: string;
let browser: Browser;

/** What a page did while it was open. */
interface Watch {
  consoleErrors: string[];
  pageErrors: string[];
  failed: string[];
  blocked: string[];
  requests: string[];
}

async function open(file: string): Promise<{ page: Page; watch: Watch }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 2400 } });
  const watch: Watch = { consoleErrors: [], pageErrors: [], failed: [], blocked: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') watch.consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => watch.pageErrors.push(e.message));
  page.on('requestfailed', (r) => watch.failed.push(`${r.url()} (${r.failure()?.errorText})`));
  page.on('request', (r) => watch.requests.push(r.url()));
  await page.route('**', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    watch.blocked.push(url);
    return route.abort('blockedbyclient');
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, watch };
}

function expectQuiet(watch: Watch, file: string): void {
  expect(watch.consoleErrors).toEqual([]);
  expect(watch.pageErrors).toEqual([]);
  expect(watch.failed).toEqual([]);
  expect(watch.blocked).toEqual([]);
  // The page itself is the only thing loaded.
  expect(watch.requests).toEqual([pathToFileURL(file).href]);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM`);
  tmp = mkdtempSync(join(tmpdir(), 'thought-probe-html-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('report.html from thought-probe analyze on the note records', () => {
  let file: string;
  let html: string;

  beforeAll(async () => {
    const records = noteRecords();
    records[0]!.thought = INJECT_THOUGHT;
    records[1]!.suffix = INJECT_SUFFIX;
    records[2]!.judge = { ...records[2]!.judge, raw: INJECT_JUDGE };
    const samples = join(tmp, 'samples.jsonl');
    writeFileSync(samples, noteRecordsJsonl(records));
    const out = join(tmp, 'out');
    const r = await runCli(['analyze', '--samples', samples, '--out', out]);
    if (r.status !== 0) throw new Error(show(r));
    expect(r.stdout).toContain(join(out, 'report.html'));
    file = join(out, 'report.html');
    html = readFileSync(file, 'utf8');
  }, 120_000);

  test('is one self-contained file: no external scripts, styles, fonts or links, texts escaped', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    // url(#…) (an SVG gradient in the same document) is the only url() there is.
    expect(html).not.toMatch(/@import|@font-face|url\((?!#)/i);
    const ids = [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(html).not.toMatch(/\s(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).toContain('&lt;img src=&quot;x&quot; onerror=&quot;window.__pwned = 1&quot;&gt; let me think');
    expect(html).toContain('&lt;/div&gt;&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;window.__pwned = 2&lt;/script&gt;');
    expect(html).toContain('&lt;svg onload=&quot;window.__pwned = 3&quot;&gt;&lt;/svg&gt;');
    expect(html).not.toContain('simulation-banner');
  });

  test('renders in Chromium with every chart, a mark per arm, a working filter and nothing fetched', async () => {
    const { page, watch } = await open(file);
    try {
      // Charts: reward means, the forest plot and one heatmap per arm, each a non-empty inline SVG.
      expect(await page.locator('figure[data-chart="reward"] > svg').count()).toBe(1);
      expect(await page.locator('figure[data-chart="sensitivity"] > svg').count()).toBe(1);
      expect(await page.locator('figure[data-chart="heatmap"] > svg').count()).toBe(NOTE_ARMS.length);
      expect(await page.locator('figure.chart > svg').count()).toBe(2 + NOTE_ARMS.length);
      for (const svg of await page.locator('figure.chart > svg').all()) {
        const box = await svg.boundingBox();
        expect(box!.width).toBeGreaterThan(150);
        expect(box!.height).toBeGreaterThan(150);
      }
      for (const arm of NOTE_ARMS) {
        // 4 condition bars with 4 interval bars; 3 sensitivities with their intervals; 32 prefixes x 4 conditions.
        expect(await page.locator(`figure[data-chart="reward"] [aria-roledescription="bar"][aria-label^="Arm: ${arm};"]`).count()).toBe(4);
        expect(await page.locator(`figure[data-chart="sensitivity"] [aria-roledescription="point"][aria-label*="; Arm: ${arm};"]`).count()).toBe(3);
        const heat = page.locator(`figure[data-chart="heatmap"][data-arm="${arm}"]`);
        expect(await heat.count()).toBe(1);
        expect(await heat.locator('[aria-roledescription="rect mark"][aria-label*="Prefix mean:"]').count()).toBe(32 * 4);
        expect(await heat.locator('svg text', { hasText: arm }).count()).toBeGreaterThan(0);
      }
      expect(await page.locator('figure[data-chart="reward"] [aria-roledescription="errorbar"]').count()).toBe(16);
      // The forest plot's zero line: a dashed rule.
      expect(await page.locator('figure[data-chart="sensitivity"] line[stroke-dasharray]').count()).toBe(1);
      expect(await page.locator('#simulation-banner').count()).toBe(0);

      // Nothing from the records ran or became an element.
      expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
      expect(await page.locator('#samples img, #samples script, #samples a, #samples svg').count()).toBe(0);
      expect(await page.locator('#samples tbody tr').first().locator('td').nth(4).textContent()).toBe(INJECT_THOUGHT);

      // The table and its filter.
      const visible = page.locator('#samples tbody tr:not([hidden])');
      const count = page.locator('#filter-count');
      expect(await page.locator('#samples tbody tr').count()).toBe(2048);
      expect(await visible.count()).toBe(2048);
      expect(await count.textContent()).toBe('2048 of 2048 samples');
      await page.fill('#filter', 'think_phase3_rlmt');
      expect(await visible.count()).toBe(512);
      expect(await count.textContent()).toBe('512 of 2048 samples');
      await page.fill('#filter', 'think_phase3_rlmt p07');
      expect(await visible.count()).toBe(16);
      expect(new Set(await visible.locator('td:nth-child(1)').allTextContents())).toEqual(new Set(['p07']));
      await page.fill('#filter', 'arm:think_base prefix:p07 condition:blank_thought');
      expect(await visible.count()).toBe(4);
      await page.fill('#filter', 'window.__pwned');
      expect(await visible.count()).toBe(3);
      await page.fill('#filter', 'no such text anywhere');
      expect(await visible.count()).toBe(0);
      expect(await count.textContent()).toBe('0 of 2048 samples');
      await page.fill('#filter', '');
      expect(await visible.count()).toBe(2048);

      await page.screenshot({ path: SCREENSHOT });
      expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);
      expectQuiet(watch, file);
    } finally {
      await page.close();
    }
  }, 120_000);
});

describe('renderReportHtml in process', () => {
  test('simulation banner, true suffixes, escaped texts and charts rendered through the worker thread', async () => {
    const rec = (arm: string, condition: string, prefixId: string, sample: number, reward: 0 | 1 | null, extra: Partial<ReportRecord> = {}): ReportRecord => ({
      arm, condition, prefixId, sample, thought: 'think', suffix: 'said', reward, judge: { valid: reward !== null, raw: reward === null ? 'unsure' : `{"score": ${reward}}`, attempts: 1 }, ...extra,
    });
    const records: ReportRecord[] = [];
    for (const arm of ['a', 'b']) {
      for (const [i, p] of ['q0', 'q1', 'q2'].entries()) {
        for (const k of [0, 1]) {
          records.push(rec(arm, 'normal_model_thought', p, k, ((i + k) % 2) as 0 | 1, { prefixIndex: i }));
          records.push(rec(arm, 'blank_thought', p, k, k === 1 && i === 2 ? null : 0, { prefixIndex: i, thought: '' }));
        }
      }
    }
    records[0]!.suffix = INJECT_SUFFIX;
    const summary = buildSummary(records.map(scoreRecord), { runId: 'sim-<run>', simulated: true });
    const truth = { q0: 'the <true> continuation & more', q1: 'second', q2: 'third' };
    const html = await renderReportHtml(summary, records, { truth });
    expect(html).toContain('<title>Thought-use probe: sim-&lt;run&gt;</title>');
    expect(html).toContain('the &lt;true&gt; continuation &amp; more');
    const file = join(tmp, 'inprocess.html');
    writeFileSync(file, html);
    const { page, watch } = await open(file);
    try {
      expect(await page.locator('#simulation-banner').textContent()).toContain('SIMULATION');
      expect(await page.locator('#samples thead th').allTextContents()).toEqual(['Prefix', 'Arm', 'Condition', 'Sample', 'Thought', 'Predicted suffix', 'True suffix', 'Judge answer', 'Reward']);
      expect(await page.locator('#samples tbody tr[data-prefix="q0"] td:nth-child(7)').first().textContent()).toBe('the <true> continuation & more');
      expect(await page.locator('#samples tbody tr[data-reward="invalid"]').count()).toBe(2);
      expect(await page.locator('figure.chart > svg').count()).toBe(4);
      expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
      await page.fill('#filter', 'reward:invalid');
      expect(await page.locator('#samples tbody tr:not([hidden])').count()).toBe(2);
      expectQuiet(watch, file);
    } finally {
      await page.close();
    }
  }, 60_000);
});

/**
 * End to end: `thought-probe analyze` writes report.html next to report.md; opened from file:// in headless
 * Chromium (Debian's /usr/bin/chromium through playwright-core, every non-file request blocked) it shows
 * every chart with a mark per arm, logs no error, fetches nothing and runs no text from the records as markup.
 * Its sample browser is virtualised: the tests check that it builds only the rows on screen, that the filters
 * (terms, key:value terms, the selects) and the full-text search show exactly the matching records, and that the
 * sample view shows a whole sample and moves to the same prefix under another condition. In-process reports check
 * the SIMULATION banner, the true suffix and prefix in the sample view, escaping, and the sampled file above the
 * sample-text budget.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { scoreRecord } from '../../src/experiment/metrics';
import { buildSummary } from '../../src/experiment/summary';
import { renderReportHtml, type ReportRecord } from '../../src/report';
import { ROW_FIELDS, type SampleIndex } from '../../src/report/sampleIndex';
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

/** The sample index a report.html carries, decoded as its page script decodes it. */
function sampleIndexOf(html: string): SampleIndex {
  const m = /<script type="application\/octet-stream" id="sample-data">([^<]*)<\/script>/.exec(html);
  if (!m) throw new Error('report.html has no sample index');
  return JSON.parse(gunzipSync(Buffer.from(m[1]!, 'base64')).toString('utf8')) as SampleIndex;
}

/** The sample rows the virtualised table has built, as (arm, condition, prefix, sample). */
function builtRows(page: Page): Promise<string[]> {
  return page.locator('#samples tbody tr.row').evaluateAll((rows) => rows.map((r) => ['arm', 'condition', 'prefix', 'sample'].map((k) => r.getAttribute(`data-${k}`)).join('|')));
}

/** What the tests read of a record. */
type NoteLike = ReportRecord;
const key = (r: Pick<ReportRecord, 'arm' | 'condition' | 'prefixId' | 'sample'>) => `${r.arm}|${r.condition}|${r.prefixId}|${r.sample}`;

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
  await page.waitForSelector('body[data-samples="ready"]');
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
  let records: ReturnType<typeof noteRecords>;

  beforeAll(async () => {
    records = noteRecords();
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
    // One executable script; the samples are an inert, compressed data block that the script reads.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html.match(/<script\b/g)).toHaveLength(2);
    const index = sampleIndexOf(html);
    expect(index.rows.length / ROW_FIELDS.length).toBe(2048);
    expect(index.strings).toEqual(expect.arrayContaining([INJECT_THOUGHT, INJECT_SUFFIX, INJECT_JUDGE]));
    // Texts never appear as markup in the page itself.
    expect(html).not.toContain('window.__pwned');
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
      expect(await page.locator('#samples tbody tr.row').first().locator('td').nth(4).textContent()).toBe(INJECT_THOUGHT);

      // The virtualised table: 2,048 samples, only the rows on screen built; scrolling builds the others.
      const count = page.locator('#filter-count');
      const built = page.locator('#samples tbody tr.row');
      expect(await count.textContent()).toBe('2048 of 2048 samples');
      const first = await built.count();
      expect(first).toBeGreaterThan(5);
      expect(first).toBeLessThan(100);
      expect((await builtRows(page))[0]).toBe(key(records[0]!));
      await page.locator('#samples-scroll').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      const lastKey = key(records[2047]!);
      await page.waitForFunction(`[...document.querySelectorAll('#samples tbody tr.row')].some((r) => ['arm', 'condition', 'prefix', 'sample'].map((x) => r.getAttribute('data-' + x)).join('|') === ${JSON.stringify(lastKey)})`);
      expect((await builtRows(page)).at(-1)).toBe(lastKey);
      expect(await built.count()).toBeLessThan(100);

      // Filters: free terms, key:value terms, and the selects, against the records themselves.
      const expectShown = async (want: NoteLike[]) => {
        expect(await count.textContent()).toBe(`${want.length} of 2048 samples`);
        const rows = await builtRows(page);
        expect(rows).toEqual(want.slice(0, rows.length).map(key));
        if (want.length <= 20) expect(rows).toHaveLength(want.length);
      };
      await page.fill('#filter', 'think_phase3_rlmt');
      await expectShown(records.filter((r) => r.arm === 'think_phase3_rlmt'));
      await page.fill('#filter', 'think_phase3_rlmt p07');
      await expectShown(records.filter((r) => r.arm === 'think_phase3_rlmt' && r.prefixId === 'p07'));
      await page.fill('#filter', 'arm:think_base prefix:p07 condition:blank_thought');
      await expectShown(records.filter((r) => r.arm === 'think_base' && r.prefixId === 'p07' && r.condition === 'blank_thought'));
      await page.fill('#filter', 'window.__pwned');
      await expectShown(records.slice(0, 3));
      await page.fill('#filter', 'no such text anywhere');
      await expectShown([]);
      await page.fill('#filter', '');
      await page.selectOption('#f-arm', { label: 'think_phase3' });
      await page.selectOption('#f-condition', { label: 'generic_thought' });
      await page.selectOption('#f-reward', { label: '1' });
      await expectShown(records.filter((r) => r.arm === 'think_phase3' && r.condition === 'generic_thought' && r.reward === 1));
      await page.fill('#f-prefix', 'p03');
      await expectShown(records.filter((r) => r.arm === 'think_phase3' && r.condition === 'generic_thought' && r.reward === 1 && r.prefixId === 'p03'));
      await page.fill('#f-prefix', '');
      await page.selectOption('#f-arm', { label: 'any' });
      await page.selectOption('#f-condition', { label: 'any' });
      await page.selectOption('#f-reward', { label: 'any' });
      // Full-text search in thoughts and suffixes: a word of one suffix finds exactly the samples that hold it.
      const word = records[40]!.suffix.split(/\s+/).find((w) => w.length > 3)!.toLowerCase();
      await page.fill('#filter', word);
      await expectShown(records.filter((r) => [r.thought, r.suffix, r.judge.raw, r.prefixId, r.arm, r.condition].some((x) => x.toLowerCase().includes(word))));
      await page.fill('#filter', '');
      await expectShown(records);

      // The sample view: the whole sample, and the same prefix and sample under the other conditions.
      const target = records.find((r) => r.arm === 'think_base_rlmt' && r.condition === 'blank_thought' && r.prefixId === 'p05' && r.sample === 2)!;
      await page.fill('#filter', 'arm:think_base_rlmt prefix:p05 sample:2');
      await page.locator('#samples tbody tr.row[data-condition="blank_thought"]').click();
      expect(await page.locator('#sample-view').isVisible()).toBe(true);
      expect(await page.locator('#sv-title').textContent()).toBe('think_base_rlmt · blank_thought · p05 · sample 2');
      expect(await page.locator('#sv-thought').textContent()).toBe(target.thought);
      expect(await page.locator('#sv-suffix').textContent()).toBe(target.suffix);
      expect(await page.locator('#sv-judge').textContent()).toBe(target.judge.raw);
      expect(await page.locator('#sv-others button').evaluateAll((b) => b.map((x) => x.getAttribute('data-condition')))).toEqual(['normal_model_thought', 'generic_thought', 'same_arm_swapped_thought']);
      await page.click('#sv-others button[data-condition="same_arm_swapped_thought"]');
      const swapped = records.find((r) => r.arm === 'think_base_rlmt' && r.condition === 'same_arm_swapped_thought' && r.prefixId === 'p05' && r.sample === 2)!;
      expect(await page.locator('#sv-title').textContent()).toBe('think_base_rlmt · same_arm_swapped_thought · p05 · sample 2');
      expect(await page.locator('#sv-suffix').textContent()).toBe(swapped.suffix);
      await page.click('#sv-close');
      expect(await page.locator('#sample-view').isVisible()).toBe(false);
      await page.fill('#filter', '');

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
    const prefixText = { q0: 'Once <b>upon</b> a time', q1: 'first', q2: 'then' };
    const html = await renderReportHtml(summary, records, { truth, prefixText });
    expect(html).toContain('<title>Thought-use probe: sim-&lt;run&gt;</title>');
    expect(sampleIndexOf(html).strings).toEqual(expect.arrayContaining(['the <true> continuation & more', 'Once <b>upon</b> a time']));
    expect(sampleIndexOf(html).sampled).toBe(false);
    const file = join(tmp, 'inprocess.html');
    writeFileSync(file, html);
    const { page, watch } = await open(file);
    try {
      expect(await page.locator('#simulation-banner').textContent()).toContain('SIMULATION');
      expect(await page.locator('#samples thead th').allTextContents()).toEqual(['Prefix', 'Arm', 'Condition', 'Sample', 'Thought', 'Predicted suffix', 'Judge answer', 'Reward']);
      expect(await page.locator('#samples tbody tr.row[data-reward="invalid"]').count()).toBe(2);
      expect(await page.locator('figure.chart > svg').count()).toBe(4);
      await page.locator('#samples tbody tr.row[data-prefix="q0"]').first().click();
      expect(await page.locator('#sv-truth').textContent()).toBe('the <true> continuation & more');
      expect(await page.locator('#sv-prefix').textContent()).toBe('Once <b>upon</b> a time');
      expect(await page.locator('#sv-suffix').textContent()).toBe(INJECT_SUFFIX);
      expect(await page.locator('#sample-view b, #sample-view script, #sample-view a').count()).toBe(0);
      expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
      await page.fill('#filter', 'reward:invalid');
      expect(await page.locator('#samples tbody tr.row').count()).toBe(2);
      await page.fill('#filter', '');
      await page.selectOption('#f-reward', { label: 'invalid' });
      expect(await page.locator('#filter-count').textContent()).toBe('2 of 24 samples');
      expectQuiet(watch, file);
    } finally {
      await page.close();
    }
  }, 60_000);

  test('above its sample-text budget the file keeps charts, tables and whole prefixes evenly spaced, and says to use view', async () => {
    const records = noteRecords();
    const summary = buildSummary(records.map(scoreRecord), { runId: 'big-run-7' });
    // The budget scaled down to a quarter of these records' text: what a 40M-character budget does to a run four times its size.
    const all = sampleIndexOf(await renderReportHtml(summary, records));
    expect(all.text).toBe(records.reduce((n, r) => n + r.thought.length + r.suffix.length + r.judge.raw.length, 0));
    const html = await renderReportHtml(summary, records, { sampleTextBudget: Math.ceil(all.text / 4) });
    const index = sampleIndexOf(html);
    expect(index.sampled).toBe(true);
    const kept = index.rows.length / ROW_FIELDS.length;
    // Whole prefixes: every arm, condition and sample of 8 of the 32 prefixes, spread over the run.
    const prefixes = [...new Set(Array.from({ length: kept }, (_, i) => index.prefixes[index.rows[i * ROW_FIELDS.length + 2]!]))];
    expect(prefixes).toEqual(['p00', 'p04', 'p08', 'p12', 'p16', 'p20', 'p24', 'p28']);
    expect(kept).toBe(8 * 64);
    const file = join(tmp, 'sampled.html');
    writeFileSync(file, html);
    const { page, watch } = await open(file);
    try {
      expect(await page.locator('#samples-sampled').textContent()).toContain(`This file keeps 512 of the run's 2,048 samples`);
      expect(await page.locator('#samples-sampled code').textContent()).toBe('thought-probe view big-run-7');
      expect(await page.locator('#filter-count').textContent()).toBe('512 of 512 samples kept in this file (the run has 2048)');
      expect(await page.locator('figure.chart > svg').count()).toBe(2 + NOTE_ARMS.length);
      // The tables are computed from every record, not from the sample.
      expect(await page.locator('#reward + figure + details table tbody tr').count()).toBe(16);
      expectQuiet(watch, file);
    } finally {
      await page.close();
    }
  }, 60_000);
});

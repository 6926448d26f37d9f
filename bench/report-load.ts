// How fast report.html opens at 10x the note's size (320 prefixes × 4 samples × 4 conditions × 4 arms = 20,480
// samples) in a real headless Chromium (Debian's, through playwright-core, every non-file request blocked): the
// load event, and the time until the page is usable (its sample index decoded, the first rows built and a filter
// answered), both from navigation start, medians of --runs opens each in a fresh browser context; and the file's
// size. The run's store is written directly with the records the simulated endpoints would have produced
// (src/sim/records, as the view test does) and report.html by the real writeArtifacts activity. Targets (issue 17):
// load under 2 s, usable under 3 s, the file under 10 MB. Then `view`'s server over the same store (over HTTP; the
// run list from a catalog given here, not Temporal): the first samples page (the store read cold), and medians of
// --runs of a samples page, the last page, a full-text search, and the run page (charts rendered, then cached).
// Not part of the test suite.
//
//   npm run bench:report -- [--prefixes 320] [--runs 3] [--chromium /usr/bin/chromium]   (writes bench/results/report-load.json)
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { createActivities } from '../src/activities';
import { FileRunStore } from '../src/store';
import { startViewServer } from '../src/view';
import { largeRunConfig, writeLargeRun } from '../test/helpers/large-run';
import { median, numArg, root, strArg } from './lib';

// As bench/screenshot-report.ts (which runs on import, so its constant is not imported).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** One open of the report. */
interface Open {
  loadMs: number;
  usableMs: number;
  rowsBuilt: number;
}

async function main(): Promise<void> {
  const prefixes = numArg('prefixes', 320);
  const runs = numArg('runs', 3);
  const executablePath = strArg('chromium', process.env.CHROMIUM ?? '/usr/bin/chromium');
  const dir = mkdtempSync(join(tmpdir(), 'tp-bench-report-'));
  try {
    const config = largeRunConfig('bench-report', prefixes, dir);
    const started = Date.now();
    const { dir: runDir, records } = await writeLargeRun(config, 'bench-report');
    const written = await createActivities().writeArtifacts({ storeDir: runDir, runId: 'bench-report', swapIndexes: {}, errors: [] });
    const writeMs = Date.now() - started;
    const file = written.paths.html;
    const bytes = statSync(file).size;
    process.stderr.write(`${records.length} samples; report.html ${(bytes / 1e6).toFixed(2)} MB (store and artifacts written in ${(writeMs / 1000).toFixed(1)} s)\n`);
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    const opens: Open[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(e.message));
        await page.route('**', (route) => (route.request().url().startsWith('file:') ? route.continue() : (problems.push(route.request().url()), route.abort())));
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        await page.waitForSelector('body[data-samples="ready"]', { timeout: 120_000 });
        // Usable: a filter answers. Timed inside the page, from navigation start, right after the count changed.
        const o = (await page.evaluate(`(() => {
          const input = document.getElementById('filter');
          input.value = 'arm:think_phase3';
          input.dispatchEvent(new Event('input'));
          const usable = performance.now();
          const nav = performance.getEntriesByType('navigation')[0];
          return { loadMs: nav.loadEventStart, usableMs: usable, count: document.getElementById('filter-count').textContent, rowsBuilt: document.querySelectorAll('#samples tbody tr.row').length };
        })()`)) as Open & { count: string };
        if (!o.count.startsWith(`${records.length / 4} of ${records.length}`)) problems.push(`the filter answered "${o.count}"`);
        if (problems.length) throw new Error(`report.html did not open cleanly: ${problems.join('; ')}`);
        opens.push({ loadMs: o.loadMs, usableMs: o.usableMs, rowsBuilt: o.rowsBuilt });
        process.stderr.write(`open ${i + 1}: load event ${o.loadMs.toFixed(0)} ms, usable ${o.usableMs.toFixed(0)} ms, ${o.rowsBuilt} rows built\n`);
        await context.close();
      }
    } finally {
      await browser.close();
    }
    const result = {
      samples: records.length,
      bytes,
      loadMs: median(opens.map((o) => o.loadMs)),
      usableMs: median(opens.map((o) => o.usableMs)),
      opens,
      targets: { loadMs: 2000, usableMs: 3000, bytes: 10_000_000 },
    };
    const table = [
      '| samples | report.html | load event (median) | usable (median) | rows built |',
      '| ---: | ---: | ---: | ---: | ---: |',
      `| ${records.length.toLocaleString('en-US')} | ${(bytes / 1e6).toFixed(2)} MB | ${(result.loadMs / 1000).toFixed(2)} s | ${(result.usableMs / 1000).toFixed(2)} s | ${opens[0]?.rowsBuilt ?? 0} |`,
    ].join('\n');
    process.stdout.write(`${table}\n`);
    process.stdout.write(`targets: load < 2 s ${result.loadMs < 2000 ? 'met' : 'MISSED'}, usable < 3 s ${result.usableMs < 3000 ? 'met' : 'MISSED'}, file < 10 MB ${bytes < 10_000_000 ? 'met' : 'MISSED'}\n`);
    const viewMs = await timeView(runDir, runs);
    const rows = Object.entries(viewMs).map(([what, ms]) => `| ${what} | ${ms.map((x) => x.toFixed(0)).join(', ')} ms | ${median(ms).toFixed(0)} ms |`);
    process.stdout.write(`\n| view, ${records.length.toLocaleString('en-US')} samples | each | median |\n| --- | ---: | ---: |\n${rows.join('\n')}\n`);
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/report-load.json'), `${JSON.stringify({ ...result, viewMs }, null, 2)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Times `view`'s answers over a run directory's file store. */
async function timeView(runDir: string, runs: number): Promise<Record<string, number[]>> {
  const store = new FileRunStore(runDir);
  const listing = { runId: 'bench-report', status: 'COMPLETED', startedAt: null, closedAt: null };
  const server = await startViewServer({ catalog: { list: async () => [listing], open: async (id) => (id === listing.runId ? { listing, store } : undefined) } });
  const time = async (path: string): Promise<number> => {
    const t = performance.now();
    const res = await fetch(`${server.url}${path}`);
    await res.text();
    if (res.status !== 200) throw new Error(`view answered ${res.status} to ${path}`);
    return performance.now() - t;
  };
  const out: Record<string, number[]> = { 'first samples page (store read cold)': [await time('/runs/bench-report/samples')] };
  const cases: [string, string][] = [
    ['samples page (100 rows)', '/runs/bench-report/samples?page=2'],
    ['last page, filtered by arm and condition', '/runs/bench-report/samples?arm=think_base&condition=blank_thought&page=13'],
    ['full-text search, two words', '/runs/bench-report/samples?q=fire+wind'],
    ['one sample', '/runs/bench-report/samples/think_base/blank_thought/hist-01-p0/0'],
  ];
  for (const [what, path] of cases) {
    out[what] = [];
    for (let i = 0; i < runs; i++) out[what].push(await time(path));
  }
  out['run page, first (charts rendered)'] = [await time('/runs/bench-report')];
  out['run page, again (cached)'] = [];
  for (let i = 0; i < runs; i++) out['run page, again (cached)'].push(await time('/runs/bench-report'));
  await server.close();
  store.close();
  return out;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);

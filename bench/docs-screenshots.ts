// The README's screenshots, taken with playwright-core in Debian's headless Chromium: report.html of a 10x run (its
// charts, and its sample browser with a sample open), and `thought-probe view` over a note-sized run made for real
// on a private Temporal dev server, a worker and the simulated endpoints (run list, run page, samples, a sample).
//
//   npx tsx bench/docs-screenshots.ts   (writes docs/*.png)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { createActivities } from '../src/activities';
import { resolveConfigFile } from '../src/config/load';
import { pointAtSim } from '../src/cli/demo';
import { temporalCatalog } from '../src/cli/view';
import { startSimServer } from '../src/sim';
import { startViewServer } from '../src/view';
import { heldoutRows } from '../test/helpers/configs';
import { largeRunConfig, writeLargeRun } from '../test/helpers/large-run';
import { bundle, startTemporal, withWorkers } from '../test/helpers/temporal';
import { root } from './lib';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const docs = join(root, 'docs');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(docs, name) });
  process.stdout.write(`${join(docs, name)}\n`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tp-docs-'));
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const [env, workflowBundle, sim] = await Promise.all([startTemporal(), bundle(), startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 0 })]);
  try {
    // report.html of a 10x run.
    const big = largeRunConfig('tenfold', 320, dir);
    const { dir: bigDir } = await writeLargeRun(big, 'tenfold-1');
    const { paths } = await createActivities().writeArtifacts({ storeDir: bigDir, runId: 'tenfold-1', swapIndexes: {}, errors: [] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.route('**', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
    await page.goto(pathToFileURL(paths.html).href);
    await page.waitForSelector('body[data-samples="ready"]');
    await shot(page, 'report-html.png');
    await page.locator('#samples-heading').scrollIntoViewIfNeeded();
    await page.selectOption('#f-arm', { label: 'think_phase3' });
    await page.fill('#filter', 'reward:1');
    await page.locator('#samples tbody tr.row').first().click();
    await page.evaluate('document.getElementById("sample-view").scrollIntoView()');
    await shot(page, 'report-html-samples.png');

    // view over a real note-sized run.
    const config = { ...pointAtSim(resolveConfigFile(join(root, 'examples/demo.yaml')), sim.url), output: { dir } };
    await withWorkers(env, workflowBundle, () => env.client.workflow.execute('probeRun', { args: [config], workflowId: 'demo-1', taskQueue: 'thought-probe' }));
    const server = await startViewServer({ catalog: temporalCatalog(env.client) });
    try {
      const v = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await v.route('**', (r) => (r.request().url().startsWith(server.url) ? r.continue() : r.abort()));
      await v.goto(`${server.url}/`);
      await shot(v, 'view-runs.png');
      await v.goto(`${server.url}/runs/demo-1`);
      await shot(v, 'view-run.png');
      await v.goto(`${server.url}/runs/demo-1/samples?arm=think_base&condition=same_arm_swapped_thought&pageSize=20`);
      await shot(v, 'view-samples.png');
      await v.locator('#samples tr.row a').first().click();
      await shot(v, 'view-sample.png');
    } finally {
      await server.close();
    }
  } finally {
    await browser.close();
    await sim.close();
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);

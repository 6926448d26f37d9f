// Opens a report.html in headless Chromium with every non-file request blocked and saves a full-page screenshot.
// Usage: tsx bench/screenshot-report.ts REPORT_HTML [OUT_PNG] [--chromium PATH]
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** Chromium flags for a closed, quiet, headless machine. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--chromium');
  const executablePath = at >= 0 ? args.splice(at, 2)[1]! : process.env.CHROMIUM ?? '/usr/bin/chromium';
  const [report, out = join(tmpdir(), 'thought-probe-report.png')] = args;
  if (!report) {
    process.stderr.write('usage: tsx bench/screenshot-report.ts REPORT_HTML [OUT_PNG] [--chromium PATH]\n');
    process.exit(2);
  }
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 2400 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.route('**', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(resolve(report)).href, { waitUntil: 'load' });
    // The samples table makes the full page very tall: the screenshot is the first screen (scale, charts).
    await page.screenshot({ path: out });
    process.stdout.write(`${out}\n${problems.join('\n')}${problems.length ? '\n' : ''}`);
  } finally {
    await browser.close();
  }
}

void main();

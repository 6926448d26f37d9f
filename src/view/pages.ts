// The HTML pages of `thought-probe view`: plain server-rendered pages with no script at all (filters are a GET
// form, paging is links), every text escaped. The run page is report.html's own page with a server-paged samples
// section in place of the embedded browser.
import type { SampleRecord } from '../experiment/records';
import { esc } from '../report/html';
import type { RunListing } from './catalog';
import { PAGE_SIZE, type SampleQuery, type SamplePage } from './query';
import type { RunSnapshot } from './runData';

const enc = encodeURIComponent;

/** The path of a run's page. */
export const runPath = (runId: string): string => `/runs/${enc(runId)}`;

/** The path of one sample's page. */
export function samplePath(runId: string, r: Pick<SampleRecord, 'arm' | 'condition' | 'prefixId' | 'sample'>): string {
  return `${runPath(runId)}/samples/${enc(r.arm)}/${enc(r.condition)}/${enc(r.prefixId)}/${r.sample}`;
}

/** The content security policy of every page: nothing but inline styles and data: images, forms to this server. */
export const VIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 1.5rem; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; } h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
code, .id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid #ddd; padding: .25rem .45rem; vertical-align: top; text-align: left; }
th { background: #f4f4f4; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td .t { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 30rem; max-height: 4.5rem; overflow: hidden; }
td.reward-1 { background: #e3f4e3; } td.reward-0 { background: #fbe9e9; } td.reward-invalid { background: #eee; color: #555; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin: .5rem 0; }
form.filters input, form.filters select, form.filters button { font: inherit; padding: .25rem .4rem; }
nav.top { margin-bottom: .8rem; } nav.pager { margin: .6rem 0; display: flex; gap: 1rem; }
dl.sample dt { font-weight: 700; margin-top: .6rem; } dl.sample dd { margin: .1rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.status { font-weight: 700; } .hint { color: #555; font-size: .85rem; }
.error { background: #fbe9e9; border: 1px solid #c33; padding: .6rem .9rem; border-radius: 4px; }
`;

function page(title: string, body: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(VIEW_CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${STYLE}</style></head><body>`,
    ...body,
    '</body></html>',
    '',
  ].join('\n');
}

const nav = (runId?: string) =>
  `<nav class="top"><a href="/">All runs</a>${runId ? ` · <a href="${runPath(runId)}">run ${esc(runId)}</a> · <a href="${runPath(runId)}/samples">samples</a>` : ''}</nav>`;

/** A run as the list shows it, with its progress where its store could be read. */
export interface ListedRun extends RunListing {
  arms: string[] | null;
  stored: number | null;
  planned: number | null;
}

/** The run list. */
export function listPage(runs: ListedRun[]): string {
  const rows = runs.map(
    (r) =>
      `<tr data-run="${esc(r.runId)}"><td><a href="${runPath(r.runId)}">${esc(r.runId)}</a></td><td class="status">${esc(r.status.toLowerCase())}</td><td>${esc(r.startedAt ?? '')}</td><td>${esc(r.arms?.join(', ') ?? '')}</td><td class="num">${r.planned === null ? 'no config in its store yet (preparing, or its store is not reachable from here)' : `${r.stored} / ${r.planned}`}</td></tr>`,
  );
  return page('thought-probe runs', [
    '<h1>thought-probe runs</h1>',
    `<p class="hint">${runs.length} run${runs.length === 1 ? '' : 's'}, newest first; read-only.</p>`,
    '<table id="runs"><thead><tr><th>Run</th><th>Status</th><th>Started</th><th>Arms</th><th class="num">Samples stored / planned</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ]);
}

/** The line under a run page's title: status, progress and links. */
export function runHeader(listing: RunListing, run: RunSnapshot, refreshSeconds?: number): string {
  const done = run.stored;
  return [
    nav(listing.runId),
    `<p id="run-status">Status: <span class="status">${esc(listing.status.toLowerCase())}</span>, started ${esc(listing.startedAt ?? '?')}${listing.closedAt ? `, closed ${esc(listing.closedAt)}` : ''}. Samples stored: <b id="run-progress">${done} / ${run.planned}</b>${done < run.planned ? ' (the numbers below are over the samples stored so far)' : ''}.${refreshSeconds ? ` <span class="hint" id="run-refresh">This page reloads every ${refreshSeconds} s while the run is running.</span>` : ''}</p>`,
  ].join('\n');
}

/** The samples section of a run page: a link into the server-paged browser. */
export function runSamplesSection(runId: string, run: RunSnapshot): string {
  return [
    '<h2 id="samples-heading">Samples</h2>',
    `<p><a id="browse-samples" href="${runPath(runId)}/samples">Browse all ${run.total} samples</a>: filter by arm, condition, prefix, reward or invalid judgment, search thoughts and suffixes, read any sample whole.</p>`,
  ].join('\n');
}

function options(name: string, values: string[], selected: string | undefined, labels: Record<string, string> = {}): string {
  return [`<select name="${name}" id="f-${name}"><option value="">any</option>`, ...values.map((v) => `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(labels[v] ?? v)}</option>`), '</select>'].join('');
}

function queryString(q: SampleQuery, page: number): string {
  const p = new URLSearchParams();
  if (q.arm !== undefined) p.set('arm', q.arm);
  if (q.condition !== undefined) p.set('condition', q.condition);
  if (q.prefix !== undefined) p.set('prefix', q.prefix);
  if (q.reward !== undefined) p.set('reward', q.reward === null ? 'invalid' : String(q.reward));
  if (q.invalid !== undefined) p.set('invalid', String(q.invalid));
  if (q.q) p.set('q', q.q);
  if (q.pageSize !== PAGE_SIZE) p.set('pageSize', String(q.pageSize));
  if (page !== 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const rewardText = (r: SampleRecord) => (r.reward === null ? 'invalid' : String(r.reward));

/** The server-paged sample browser of a run. */
export function samplesPage(listing: RunListing, run: RunSnapshot, q: SampleQuery, result: SamplePage, records: SampleRecord[]): string {
  const base = `${runPath(listing.runId)}/samples`;
  const reward = q.reward === undefined ? undefined : q.reward === null ? 'invalid' : String(q.reward);
  const rows = records.map((r) => {
    const t = (s: string) => `<td><div class="t">${esc(s)}</div></td>`;
    return `<tr class="row" data-arm="${esc(r.arm)}" data-condition="${esc(r.condition)}" data-prefix="${esc(r.prefixId)}" data-sample="${r.sample}" data-reward="${rewardText(r)}"><td class="id"><a href="${samplePath(listing.runId, r)}">${esc(r.prefixId)}</a></td><td class="id">${esc(r.arm)}</td><td>${esc(r.condition)}</td><td class="num">${r.sample}</td>${t(r.thought)}${t(r.suffix)}${t(r.judge?.raw ?? '')}<td class="num reward-${rewardText(r)}">${rewardText(r)}</td></tr>`;
  });
  const link = (label: string, p: number, id: string) => (p >= 1 && p <= result.pages && p !== q.page ? `<a id="${id}" href="${base}${queryString(q, p)}">${label}</a>` : `<span class="hint">${label}</span>`);
  const pager = `<nav class="pager">${link('« first', 1, 'page-first')}${link('‹ previous', q.page - 1, 'page-prev')}<span id="page-of">page ${q.page} of ${result.pages}</span>${link('next ›', q.page + 1, 'page-next')}${link('last »', result.pages, 'page-last')}</nav>`;
  return page(`Samples of ${listing.runId}`, [
    nav(listing.runId),
    `<h1>Samples of <code>${esc(listing.runId)}</code></h1>`,
    `<p>Status: <span class="status">${esc(listing.status.toLowerCase())}</span>; ${run.stored} of ${run.planned} samples stored.</p>`,
    `<form class="filters" method="get" action="${base}">`,
    `<label>Arm ${options('arm', run.config.arms.map((a) => a.name), q.arm)}</label>`,
    `<label>Condition ${options('condition', run.conditions, q.condition)}</label>`,
    `<label>Prefix <input name="prefix" id="f-prefix" size="14" value="${esc(q.prefix ?? '')}" placeholder="prefix id"></label>`,
    `<label>Reward ${options('reward', ['1', '0', 'invalid'], reward)}</label>`,
    `<label>Judgment ${options('invalid', ['true', 'false'], q.invalid === undefined ? undefined : String(q.invalid), { true: 'invalid only', false: 'valid only' })}</label>`,
    `<label>Search <input name="q" id="f-q" type="search" size="28" value="${esc(q.q)}" placeholder="words in thoughts and suffixes"></label>`,
    q.pageSize !== PAGE_SIZE ? `<input type="hidden" name="pageSize" value="${q.pageSize}">` : '',
    '<button type="submit" id="f-apply">Apply</button>',
    '</form>',
    `<p id="sample-count">${result.matching} matching sample${result.matching === 1 ? '' : 's'}</p>`,
    pager,
    '<table id="samples"><thead><tr><th>Prefix</th><th>Arm</th><th>Condition</th><th class="num">Sample</th><th>Thought</th><th>Predicted suffix</th><th>Judge answer</th><th class="num">Reward</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    pager,
  ]);
}

/** One sample whole, with links to the same prefix and sample under every other condition of its arm. */
export function samplePageHtml(listing: RunListing, run: RunSnapshot, r: SampleRecord): string {
  const row = run.rows.find((x) => x.id === r.prefixId);
  const others = run.conditions
    .filter((c) => c !== r.condition)
    .map((c) => {
      const i = run.find(r.arm, c, r.prefixId, r.sample);
      if (i === undefined) return `<li data-condition="${esc(c)}">${esc(c)}: not stored yet</li>`;
      const reward = run.reward(i);
      return `<li data-condition="${esc(c)}"><a href="${samplePath(listing.runId, { ...r, condition: c })}">${esc(c)}</a> (reward ${reward === null ? 'invalid' : String(reward)})</li>`;
    });
  const source = r.thoughtSource ? `${r.thoughtSource.prefixId}, sample ${r.thoughtSource.sample}` : null;
  const dd = (id: string, text: string) => `<dd id="${id}">${esc(text)}</dd>`;
  return page(`${r.arm} ${r.condition} ${r.prefixId} ${r.sample}`, [
    nav(listing.runId),
    `<h1 id="sample-title">${esc(r.arm)} · ${esc(r.condition)} · ${esc(r.prefixId)} · sample ${r.sample}</h1>`,
    '<dl class="sample">',
    '<dt>Prefix</dt>', dd('sv-prefix', row?.prefix ?? ''),
    `<dt>Thought${source ? ` (from ${esc(source)})` : ''}</dt>`, dd('sv-thought', r.thought),
    '<dt>Predicted suffix</dt>', dd('sv-suffix', r.suffix),
    '<dt>True suffix</dt>', dd('sv-truth', row?.suffix ?? ''),
    '<dt>Judge answer</dt>', dd('sv-judge', r.judge?.raw ?? ''),
    '<dt>Reward</dt>', dd('sv-reward', `${rewardText(r)} (judgment ${r.judge?.valid ? 'valid' : 'invalid'}, ${r.judge?.attempts ?? 0} attempt${r.judge?.attempts === 1 ? '' : 's'})${r.error ? `; error: ${r.error}` : ''}`),
    '<dt>The same prefix and sample under the other conditions</dt>',
    `<dd><ul id="sv-others">${others.join('')}</ul></dd>`,
    '</dl>',
  ]);
}

/** A page for a request that cannot be answered: its status and what to do. */
export function errorPage(status: number, message: string): string {
  return page(`${status}`, [nav(), `<h1>${status}</h1>`, `<p class="error" id="error">${esc(message)}</p>`]);
}

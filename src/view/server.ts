// The `view` HTTP server (node:http, read-only: GET and HEAD only). HTML pages at /, /runs/ID, /runs/ID/samples and
// /runs/ID/samples/ARM/CONDITION/PREFIX/SAMPLE; the same data as JSON under /api. A request it cannot answer gets a
// 4xx naming the parameter and the fix, never a crash; an unexpected failure is a 500 and the server goes on.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderReportPage } from '../report';
import type { RunCatalog, RunListing } from './catalog';
import { ViewRequestError } from './errors';
import { errorPage, listPage, runHeader, runSamplesSection, samplePageHtml, samplePath, samplesPage, VIEW_CSP, type ListedRun } from './pages';
import { parseSampleQuery, samplePage } from './query';
import { RunData, type RunSnapshot } from './runData';

/** Options of the view server. */
export interface ViewServerOptions {
  catalog: RunCatalog;
  /** Where to listen: 127.0.0.1 unless told otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Where unexpected failures are logged. */
  log?: (line: string) => void;
}

/** A listening view server. */
export interface ViewServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  type: 'html' | 'json';
  body: string;
  /** Seconds after which the browser reloads the page (a running run's page). */
  refresh?: number;
}

/** How often a running run's page reloads itself (by the Refresh header: the pages have no script). */
export const RUNNING_REFRESH_SECONDS = 15;

const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?$/i;

const html = (body: string, status = 200): Answer => ({ status, type: 'html', body });
const json = (value: unknown, status = 200): Answer => ({ status, type: 'json', body: `${JSON.stringify(value)}\n` });

/** Starts the server; resolves once it listens. */
export async function startViewServer(opts: ViewServerOptions): Promise<ViewServer> {
  const runs = new Map<string, RunData>();
  const pages = new Map<string, { key: string; html: string }>();
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));

  async function open(runId: string): Promise<{ listing: RunListing; data: RunData; run: RunSnapshot }> {
    const found = await opts.catalog.open(runId);
    if (!found) throw new ViewRequestError(404, `no run "${runId}"; the run list at / shows the runs this server knows`);
    let data = runs.get(runId);
    if (!data) runs.set(runId, (data = new RunData(runId, found.store)));
    const run = await data.read(found.listing.status === 'COMPLETED' ? found.failed : undefined);
    if (!run) throw new ViewRequestError(404, `run "${runId}" (${found.listing.status.toLowerCase()}) has nothing in its store yet: it is still preparing, or its store is not reachable from here`);
    return { listing: found.listing, data, run };
  }

  async function listed(): Promise<ListedRun[]> {
    return Promise.all(
      (await opts.catalog.list()).map(async (l) => {
        const run = await open(l.runId).then((x) => x.run, () => undefined);
        return { ...l, arms: run ? run.config.arms.map((a) => a.name) : null, stored: run ? run.stored : null, planned: run ? run.planned : null };
      }),
    );
  }

  async function route(url: URL): Promise<Answer> {
    const api = url.pathname.startsWith('/api/');
    const parts = (api ? url.pathname.slice(4) : url.pathname).split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    if (parts.length === 0 || (api && parts.length === 1 && parts[0] === 'runs')) {
      if (url.search && !api) throw new ViewRequestError(400, 'the run list takes no parameters');
      const list = await listed();
      return api ? json({ runs: list }) : html(listPage(list));
    }
    if (parts[0] !== 'runs' || parts.length < 2) throw new ViewRequestError(404, `no page at ${url.pathname}; start at /`);
    const { listing, data, run } = await open(parts[1]!);
    if (parts.length === 2) {
      if ([...url.searchParams.keys()].length) throw new ViewRequestError(400, `a run page takes no parameters; filter samples at ${url.pathname}/samples`);
      const { summary, tally } = await data.summary(run);
      if (api) return json({ ...listing, stored: run.stored, total: run.total, planned: run.planned, arms: run.config.arms.map((a) => a.name), conditions: run.conditions, summary });
      const key = `${run.stored}|${run.total}|${listing.status}`;
      const refresh = listing.status === 'RUNNING' ? { refresh: RUNNING_REFRESH_SECONDS } : {};
      const cached = pages.get(listing.runId);
      if (cached?.key === key) return { ...html(cached.html), ...refresh };
      const body = await renderReportPage(summary, tally, { samplesHtml: runSamplesSection(listing.runId, run), headerHtml: runHeader(listing, run, refresh.refresh) });
      pages.set(listing.runId, { key, html: body });
      return { ...html(body), ...refresh };
    }
    if (parts[2] !== 'samples') throw new ViewRequestError(404, `no page at ${url.pathname}; a run has its page and its /samples`);
    if (parts.length === 3) {
      const q = parseSampleQuery(url.searchParams, run);
      const result = await samplePage(run, q);
      const records = await run.records(result.items);
      if (!api) return html(samplesPage(listing, run, q, result, records));
      return json({
        runId: listing.runId, status: listing.status, stored: run.stored, total: run.total, planned: run.planned,
        matching: result.matching, page: q.page, pageSize: q.pageSize, pages: result.pages,
        samples: records.map((r) => ({ ...r, url: samplePath(listing.runId, r) })),
      });
    }
    if (parts.length !== 7) throw new ViewRequestError(404, `a sample's address is /runs/RUN/samples/ARM/CONDITION/PREFIX/SAMPLE, not ${url.pathname}`);
    if ([...url.searchParams.keys()].length) throw new ViewRequestError(400, 'a sample page takes no parameters');
    const [, , , arm, condition, prefixId, sampleText] = parts as [string, string, string, string, string, string, string];
    if (!/^\d+$/.test(sampleText)) throw new ViewRequestError(400, `sample: must be a whole number (the sample index k), got "${sampleText}"`);
    const at = run.find(arm, condition, prefixId, Number(sampleText));
    if (at === undefined) throw new ViewRequestError(404, `run ${listing.runId} has no stored sample ${arm} / ${condition} / ${prefixId} / ${sampleText}; browse its samples at /runs/${encodeURIComponent(listing.runId)}/samples`);
    await run.ready();
    const [r] = await run.records([at]);
    if (api) {
      const others = Object.fromEntries(run.conditions.filter((c) => c !== condition).map((c) => {
        const i = run.find(arm, c, prefixId, r!.sample);
        return [c, i === undefined ? null : samplePath(listing.runId, { ...r!, condition: c })];
      }));
      const row = run.rows.find((x) => x.id === prefixId);
      return json({ ...r, prefix: row?.prefix ?? null, trueSuffix: row?.suffix ?? null, otherConditions: others });
    }
    return html(samplePageHtml(listing, run, r!));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let answer: Answer;
    const api = (req.url ?? '/').startsWith('/api/');
    try {
      // Bound to the loopback, the server answers only requests addressed to it there: a web page elsewhere cannot
      // read runs through a DNS name rebound to 127.0.0.1.
      if (loopback && !LOOPBACK_HOST.test(req.headers.host ?? '')) throw new ViewRequestError(403, `requests must be addressed to 127.0.0.1, localhost or [::1] (this one says Host: ${req.headers.host ?? '(none)'}); to serve other hosts, start view with --host`);
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new ViewRequestError(405, `${req.method} is not served: view is read-only (GET only)`);
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://view.invalid');
      } catch {
        throw new ViewRequestError(400, 'the address could not be read');
      }
      answer = await route(url);
    } catch (e) {
      if (e instanceof ViewRequestError) answer = api ? json({ error: e.message, status: e.status }, e.status) : html(errorPage(e.status, e.message), e.status);
      else if (e instanceof URIError) answer = api ? json({ error: 'the address has a broken %-escape', status: 400 }, 400) : html(errorPage(400, 'the address has a broken %-escape'), 400);
      else {
        log(`view: ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
        answer = api ? json({ error: (e as Error)?.message ?? String(e), status: 500 }, 500) : html(errorPage(500, `the server failed on this request: ${(e as Error)?.message ?? String(e)}`), 500);
      }
    }
    res.writeHead(answer.status, {
      'content-type': answer.type === 'html' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
      'content-security-policy': VIEW_CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      ...(answer.status === 405 ? { allow: 'GET, HEAD' } : {}),
      ...(answer.refresh ? { refresh: String(answer.refresh) } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }

  const host = opts.host ?? '127.0.0.1';
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(host);
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    server,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

// Renders vega-lite specs to SVG strings at report time, with vega's headless View (renderer 'none').
// vega and vega-lite are ES modules with top-level await: they cannot be `require`d, and tsx and swc turn
// `import()` into `require`, so they are loaded with a real dynamic import built at run time. Inside a vm
// sandbox without a dynamic-import callback (jest), that import throws; the specs are then rendered in a
// worker thread, which is an ordinary Node realm.
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** A vega-lite specification (plain JSON). */
export type VegaLiteSpec = Record<string, unknown>;

interface VegaView {
  toSVG(scaleFactor?: number): Promise<string>;
  finalize(): void;
}

interface VegaModule {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, opts: { renderer: 'none'; logLevel?: number }) => VegaView;
  logger(level?: number): unknown;
  Error: number;
}

interface VegaLiteModule {
  compile(spec: unknown, opts?: { logger?: unknown }): { spec: unknown };
}

interface Modules {
  vega: VegaModule;
  vl: VegaLiteModule;
}

const importEsm = new Function('s', 'return import(s)') as (s: string) => Promise<unknown>;

/** File URLs of the two ESM entry points (resolved here, so the import does not depend on the cwd). */
function moduleUrls(): { vega: string; vl: string } {
  return { vega: pathToFileURL(require.resolve('vega')).href, vl: pathToFileURL(require.resolve('vega-lite')).href };
}

let loaded: Promise<Modules> | null = null;
let useWorker = false;

function isVmImportError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING');
}

async function loadDirect(): Promise<Modules> {
  const urls = moduleUrls();
  const [vega, vl] = await Promise.all([importEsm(urls.vega), importEsm(urls.vl)]);
  return { vega: vega as VegaModule, vl: vl as VegaLiteModule };
}

/** One chart drawn, or why it could not be. */
export type ChartResult = { svg: string } | { error: string };

async function renderWith(m: Modules, specs: VegaLiteSpec[]): Promise<ChartResult[]> {
  const out: ChartResult[] = [];
  for (const spec of specs) {
    let view: VegaView | undefined;
    try {
      const quiet = m.vega.logger(m.vega.Error);
      view = new m.vega.View(m.vega.parse(m.vl.compile(spec, { logger: quiet }).spec), { renderer: 'none', logLevel: m.vega.Error });
      out.push({ svg: await view.toSVG() });
    } catch (e) {
      out.push({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    } finally {
      view?.finalize();
    }
  }
  return out;
}

// The same rendering as renderWith, as the source of a worker thread (plain CommonJS, no transpiler).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const [vega, vl] = await Promise.all([import(workerData.urls.vega), import(workerData.urls.vl)]);
  const charts = [];
  for (const spec of workerData.specs) {
    let view;
    try {
      const quiet = vega.logger(vega.Error);
      view = new vega.View(vega.parse(vl.compile(spec, { logger: quiet }).spec), { renderer: 'none', logLevel: vega.Error });
      charts.push({ svg: await view.toSVG() });
    } catch (e) {
      charts.push({ error: e instanceof Error ? e.name + ': ' + e.message : String(e) });
    } finally {
      if (view) view.finalize();
    }
  }
  return charts;
})().then(
  (charts) => parentPort.postMessage({ charts }),
  (e) => parentPort.postMessage({ error: String((e && e.stack) || e) }),
);
`;

// The worker gets the main thread's stack size, so that a chart that fails in a worker process fails here too.
const STACK_SIZE_MB = 1;

function renderInWorker(specs: VegaLiteSpec[]): Promise<ChartResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { urls: moduleUrls(), specs }, resourceLimits: { stackSizeMb: STACK_SIZE_MB } });
    let settled = false;
    worker.once('message', (m: { charts?: ChartResult[]; error?: string }) => {
      settled = true;
      void worker.terminate();
      if (m.charts) resolve(m.charts);
      else reject(new Error(`loading the report's chart renderer failed: ${m.error}`));
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the chart renderer exited (${code}) without an answer`));
    });
  });
}

/**
 * Starts loading vega in the background (a worker calls this at start-up), so the first report of a run does
 * not wait for it. A failure is ignored here; rendering tries again and reports it.
 */
export function preloadCharts(): void {
  if (useWorker || loaded) return;
  loaded = loadDirect();
  loaded.catch(() => {
    loaded = null;
  });
}

/**
 * Compiles each vega-lite spec and renders it to an SVG string, in order; a chart that cannot be drawn gives its
 * error in its place and the others are drawn all the same.
 */
export async function renderCharts(specs: VegaLiteSpec[]): Promise<ChartResult[]> {
  if (specs.length === 0) return [];
  if (!useWorker) {
    let mods: Modules;
    try {
      mods = await (loaded ??= loadDirect());
    } catch (e) {
      loaded = null;
      if (!isVmImportError(e)) throw e;
      useWorker = true;
      return renderInWorker(specs);
    }
    return renderWith(mods, specs);
  }
  return renderInWorker(specs);
}

/** Renders every spec to SVG, failing on the first chart that cannot be drawn. */
export async function renderSvgs(specs: VegaLiteSpec[]): Promise<string[]> {
  return (await renderCharts(specs)).map((c, i) => {
    if ('error' in c) throw new Error(`chart ${i + 1} of ${specs.length} could not be drawn: ${c.error}`);
    return c.svg;
  });
}

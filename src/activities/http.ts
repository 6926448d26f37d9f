import { Agent, Headers, type Dispatcher } from 'undici';

// The openai client's HTTP path. Node's global fetch (WHATWG streams over undici) costs about as much CPU per call as
// everything else a worker does for it; the same undici underneath, asked through its `request` API with one
// keep-alive agent per worker, answers the client with a Node stream instead. Only what the openai client reads of a
// Response is provided: status, ok, url, headers, body (an async iterable, which its SSE reader and its stream
// cancelling accept) and json()/text().
// THOUGHT_PROBE_HTTP=fetch puts the global fetch back (for comparison and as an escape hatch).

let shared: Agent | undefined;

/** The worker's keep-alive agent: connections per origin grow with the requests in flight. */
function agent(): Agent {
  shared ??= new Agent({ keepAliveTimeout: 30_000, connections: null, pipelining: 1 });
  return shared;
}

type FetchInit = { method?: string; headers?: Record<string, string> | [string, string][] | { forEach(cb: (v: string, k: string) => void): void }; body?: string | null; signal?: AbortSignal | null };

function headerRecord(h: FetchInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (typeof (h as { forEach?: unknown }).forEach === "function") (h as Headers).forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) for (const [k, v] of h) out[k.toLowerCase()] = v;
  else for (const [k, v] of Object.entries(h as Record<string, string>)) out[k.toLowerCase()] = v;
  return out;
}

function responseHeaders(raw: Dispatcher.ResponseData['headers']): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) for (const x of v) h.append(k, x);
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}

/** A fetch for the openai client over undici's request API (see above). */
export async function requestFetch(input: string | URL | { url: string }, init: FetchInit = {}): Promise<Response> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const { origin } = new URL(url);
  const res = await agent().request({
    origin,
    path: url.slice(origin.length) || '/',
    method: (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod,
    headers: headerRecord(init.headers),
    body: init.body ?? null,
    signal: init.signal ?? undefined,
  });
  const body = res.body;
  const status = res.statusCode;
  const out = {
    status,
    ok: status >= 200 && status < 300,
    statusText: '',
    url,
    redirected: false,
    headers: responseHeaders(res.headers),
    body,
    bodyUsed: false,
    json: () => body.json(),
    text: () => body.text(),
    arrayBuffer: () => body.arrayBuffer(),
  };
  return out as unknown as Response;
}

/** The fetch the openai clients of this process use. */
export function modelFetch(env: NodeJS.ProcessEnv = process.env): typeof fetch | undefined {
  return env.THOUGHT_PROBE_HTTP === 'fetch' ? undefined : (requestFetch as unknown as typeof fetch);
}

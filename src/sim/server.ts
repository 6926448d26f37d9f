import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SUCCESS, runArm } from './arm';
import { FaultController } from './faults';
import { runJudge } from './judge';
import { paraphraseThought } from './paraphrase';
import { RowIndex } from './rows';
import { chunkBody, errorBody, fullBody, pieces, usageChunk, type Api, type Reply } from './shapes';
import { StatsTracker } from './stats';
import { truncateWords } from './text';
import type { FaultRule, SimOptions, SimServer } from './types';

const DEFAULT_ARMS = ['think_base', 'think_phase3', 'think_base_rlmt', 'think_phase3_rlmt'];
const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

type Body = Record<string, unknown>;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p === 'object' && p && 'text' in p ? String(p.text) : '')).join('');
  return '';
}

function applyStop(text: string, stop: unknown): string | undefined {
  const stops = (Array.isArray(stop) ? stop : [stop]).filter((s): s is string => typeof s === 'string' && s.length > 0);
  const cut = Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0));
  return Number.isFinite(cut) ? text.slice(0, cut) : undefined;
}

/** Starts the simulated OpenAI-compatible server (every response is labelled simulated). */
export async function startSimServer(opts: SimOptions): Promise<SimServer> {
  const judgeModel = opts.judgeModel ?? 'qwen-judge';
  const arms = opts.armModels ?? DEFAULT_ARMS;
  const extraJudges = opts.extraJudges ?? {};
  const paraphraser = opts.paraphraseModel;
  const known = [...arms, judgeModel, ...Object.keys(extraJudges), ...(paraphraser ? [paraphraser] : [])];
  const index = new RowIndex(opts.rows);
  const rates = { ...DEFAULT_SUCCESS, ...opts.successRates };
  const latency = opts.latencyMs ?? 0;
  const stats = new StatsTracker(known);
  const faults = new FaultController(opts.faults ?? []);
  let seq = 0;

  async function model(api: Api, req: IncomingMessage, res: ServerResponse, body: Body): Promise<void> {
    const name = String(body.model ?? '');
    if (!known.includes(name)) {
      return sendJson(res, 404, errorBody(`The model \`${name}\` does not exist.`, 'NotFoundError', 404));
    }
    const stream = body.stream === true;
    stats.begin(name, stream);
    const began = Date.now();
    let settled = false;
    const settle = (ok: boolean) => {
      if (!settled) stats.end(name, ok, Date.now() - began);
      settled = true;
    };
    res.on('close', () => settle(false));
    const isJudge = name === judgeModel || Object.hasOwn(extraJudges, name);
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
    const promptText = api === 'chat' ? messages.map((m) => contentText(m.content)).join('\n') : contentText(Array.isArray(body.prompt) ? body.prompt[0] : body.prompt);
    const fault = faults.pick(name, isJudge, promptText);
    const seed = typeof body.seed === 'number' ? body.seed : undefined;

    let text: string;
    let finish: 'stop' | 'length' = 'stop';
    if (isJudge) {
      text = runJudge(promptText, seed, opts.judgeInvalidRate ?? 0, fault?.kind === 'invalid', extraJudges[name] ?? 0, name);
    } else if (name === paraphraser) {
      text = paraphraseThought(promptText, seed);
    } else {
      const prompt = api === 'chat' ? contentText(messages[messages.length - 1]?.content) : promptText;
      const gen = runArm(name, prompt, seed, index, rates);
      const max = (body.max_completion_tokens ?? body.max_tokens) as number | undefined;
      const cut = truncateWords(gen.text, typeof max === 'number' ? max : undefined);
      const stopped = applyStop(cut.text, body.stop);
      [text, finish] = stopped !== undefined ? [stopped, 'stop'] : [cut.text, cut.truncated ? 'length' : gen.finish];
    }
    const reply: Reply = { api, id: `${api === 'chat' ? 'chatcmpl' : 'cmpl'}-sim-${++seq}`, model: name, created: Math.floor(Date.now() / 1000), text, finish, promptText };

    switch (fault?.kind) {
      case 'down':
      case 'reset':
        settle(false);
        if (fault.kind === 'reset') await sleep(latency);
        return void req.socket.destroy();
      case '400':
        settle(false);
        return sendJson(res, 400, errorBody("This model's maximum context length was exceeded (simulated fault).", 'BadRequestError', 400));
      case '401':
      case '403':
        settle(false);
        return sendJson(res, Number(fault.kind), errorBody(fault.kind === '401' ? 'Incorrect API key provided (simulated fault).' : 'Forbidden (simulated fault).', 'AuthenticationError', Number(fault.kind)));
      case '503':
        settle(false);
        return sendJson(res, 503, errorBody('Service temporarily unavailable (simulated fault).', 'ServiceUnavailableError', 503));
      case '429':
        settle(false);
        return sendJson(res, 429, errorBody('Rate limit exceeded (simulated fault).', 'RateLimitError', 429), { 'retry-after': String(fault.retryAfterSeconds ?? 1) });
      case 'garbage': {
        settle(false);
        const full = JSON.stringify(fullBody(reply));
        if (!stream) return void (res.writeHead(200, { 'content-type': 'application/json' }), res.end(full.slice(0, Math.floor(full.length / 2))));
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end(`data: ${JSON.stringify(chunkBody(reply, text, null)).slice(0, 40)}\n\ndata: [DONE]\n\n`);
      }
      case 'stall':
        if (stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write(`data: ${JSON.stringify(chunkBody(reply, pieces(text)[0] ?? '', null, api === 'chat'))}\n\n`);
        }
        return; // keep the socket open until the client gives up
      case 'invalid':
        settle(false);
        return sendJson(res, 200, fullBody(reply));
    }

    if (!stream) {
      await sleep(latency);
      if (res.destroyed) return;
      settle(true);
      return sendJson(res, 200, fullBody(reply));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunks: object[] = api === 'chat' ? [chunkBody(reply, '', null, true)] : [];
    for (const p of pieces(text)) chunks.push(chunkBody(reply, p, null));
    chunks.push(chunkBody(reply, '', finish));
    const so = body.stream_options as { include_usage?: boolean } | undefined;
    if (so?.include_usage) chunks.push(usageChunk(reply));
    for (const c of chunks) {
      if (latency > 0) await sleep(latency / chunks.length);
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(c)}\n\n`);
    }
    settle(true);
    res.end('data: [DONE]\n\n');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
    const method = req.method ?? 'GET';
    if (path.startsWith('/v1') && opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return sendJson(res, 401, errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key'));
    }
    let body: Body = {};
    if (method === 'POST') {
      const raw = await readBody(req);
      try {
        body = raw.trim() ? (JSON.parse(raw) as Body) : {};
      } catch {
        return sendJson(res, 400, errorBody('Request body is not valid JSON.', 'BadRequestError', 400));
      }
    }
    const route = `${method} ${path}`;
    if (route === 'GET /v1/models') {
      const data = known.map((id) => ({ id, object: 'model', created: 0, owned_by: 'thought-probe-sim' }));
      return sendJson(res, 200, { object: 'list', data });
    }
    if (route === 'POST /v1/completions') return model('completions', req, res, body);
    if (route === 'POST /v1/chat/completions') return model('chat', req, res, body);
    if (route === 'GET /stats') return sendJson(res, 200, stats.snapshot());
    if (route === 'POST /stats/reset') return (stats.reset(), sendJson(res, 200, stats.snapshot()));
    if (route === 'GET /control/faults') return sendJson(res, 200, { rules: faults.list() });
    if (route === 'POST /control/faults') {
      faults.set(Array.isArray(body.rules) ? (body.rules as FaultRule[]) : []);
      return sendJson(res, 200, { rules: faults.list() });
    }
    if (route === 'GET /health') return sendJson(res, 200, { ok: true, simulated: true });
    sendJson(res, 404, errorBody(`No route ${route} (simulated server).`, 'NotFoundError', 404));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(String(err), 'InternalServerError', 500));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    port,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setFaults: (rules) => faults.set(rules),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

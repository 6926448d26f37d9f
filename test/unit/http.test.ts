import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { modelFetch, requestFetch } from '../../src/activities/http';
import { streamText, StallError } from '../../src/activities/stream';

// The openai client's fetch over undici's request API: what the client reads of a response, streams, errors, aborts.
describe('requestFetch', () => {
  let server: Server;
  let base: string;
  const seen: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        if (req.url === '/v1/completions' && JSON.parse(body).stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: 'hello ' }] })}\n\n`);
          // The stalled prompt gets its first token, then silence.
          if (JSON.parse(body).prompt === 'stall') return;
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: 'world', finish_reason: 'length' }] })}\n\n`);
          return res.end('data: [DONE]\n\n');
        }
        if (req.url === '/v1/chat/completions') {
          res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-1' });
          return res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 0, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Score: 1' }, finish_reason: 'stop' }] }));
        }
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
        res.end(JSON.stringify({ error: { message: 'overloaded' } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const client = () => new OpenAI({ baseURL: base, apiKey: 'k-123', maxRetries: 0, timeout: 5000, fetch: requestFetch as unknown as typeof fetch });

  it('is what the clients use unless THOUGHT_PROBE_HTTP=fetch', () => {
    expect(modelFetch({})).toBe(requestFetch);
    expect(modelFetch({ THOUGHT_PROBE_HTTP: 'fetch' })).toBeUndefined();
  });

  it('sends the headers and body, and answers JSON with its request id', async () => {
    const r = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.choices[0]!.message.content).toBe('Score: 1');
    expect(r._request_id).toBe('req-1');
    const last = seen[seen.length - 1]!;
    expect(last.headers.authorization).toBe('Bearer k-123');
    expect(JSON.parse(last.body).messages[0].content).toBe('hi');
  });

  it('streams a completion to its end', async () => {
    const out = await streamText(client(), 'completions', 'm', 'go', { maxTokens: 8, temperature: 1, topP: 1, seed: 1 }, new AbortController().signal, 5000);
    expect(out.text).toBe('hello world');
    expect(out.finishReason).toBe('length');
  });

  it('notices a stalled stream within the stall timeout', async () => {
    const t0 = Date.now();
    await expect(streamText(client(), 'completions', 'm', 'stall', { maxTokens: 8, temperature: 1, topP: 1, seed: 1 }, new AbortController().signal, 300)).rejects.toBeInstanceOf(StallError);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('gives an error status to the client as its APIError, with the headers', async () => {
    const err = await client().models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('2');
  });

  it('turns a refused connection into a connection error', async () => {
    const dead = new OpenAI({ baseURL: 'http://127.0.0.1:1/v1', apiKey: 'k', maxRetries: 0, timeout: 5000, fetch: requestFetch as unknown as typeof fetch });
    await expect(dead.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
  });
});

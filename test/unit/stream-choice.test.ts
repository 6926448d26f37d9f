import OpenAI from 'openai';
import { startSimServer, type SimServer } from '../../src/sim';
import { requestFetch } from '../../src/activities/http';
import { StallError, StreamChoice, streamText, wholeText, type SamplingParams } from '../../src/activities/stream';
import { DEFAULT_THOUGHT_TEMPLATE, thoughtPrompt, THOUGHT_STOP } from '../../src/experiment/prompts';

// Generations as whole answers beside streamed ones, against the simulated server over the worker's HTTP path.
const ROWS = [
  { id: 'r0', prefix: 'The lighthouse keeper climbed the spiral stairs every evening before sunset.', suffix: 'He polished the brass lens and trimmed the wick before the storm arrived over the harbor.' },
  { id: 'r1', prefix: 'Photosynthesis converts light energy into chemical energy inside plant cells.', suffix: 'Chlorophyll absorbs photons and the electrons travel through a transport chain in the membranes.' },
];
const ARM = 'think_base';
const never = () => new AbortController().signal;
const params = (seed: number): SamplingParams => ({ maxTokens: 48, temperature: 1, topP: 0.95, seed, stop: [THOUGHT_STOP] });

let server: SimServer;
let client: OpenAI;
beforeAll(async () => {
  server = await startSimServer({ port: 0, rows: ROWS, armModels: [ARM] });
  client = new OpenAI({ baseURL: server.url, apiKey: 'x', maxRetries: 0, timeout: 10_000, fetch: requestFetch as unknown as typeof fetch });
});
afterAll(() => server.close());
afterEach(() => server.setFaults([]));

describe('wholeText', () => {
  test.each(['completions', 'chat'] as const)('answers %s with the same text, finish reason and usage as the stream', async (mode) => {
    for (const row of ROWS) {
      const prompt = thoughtPrompt(DEFAULT_THOUGHT_TEMPLATE, row.prefix);
      const s = await streamText(client, mode, ARM, prompt, params(7), never(), 5000);
      const w = await wholeText(client, mode, ARM, prompt, params(7), never(), 5000);
      expect(s.streamed).toBe(true);
      expect(w.streamed).toBe(false);
      expect(w.text.length).toBeGreaterThan(0);
      expect(w.text).toBe(s.text);
      expect(w.finishReason).toBe(s.finishReason);
      expect(w.usage).toEqual(s.usage);
      expect(w.simulated).toBe(true);
    }
  });

  test('a server that never answers is given up on as stalled at the stall timeout', async () => {
    server.setFaults([{ kind: 'stall', model: ARM }]);
    const t0 = Date.now();
    const err = await wholeText(client, 'completions', ARM, 'x', params(1), never(), 400).catch((e: unknown) => e);
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(StallError);
    expect((err as Error).message).toBe('request stalled: no answer for 0.4s');
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(3000);
  });

  test('a cancelled call ends with the cancellation, not as a stall', async () => {
    server.setFaults([{ kind: 'stall', model: ARM }]);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('activity cancelled')), 100);
    const err = await wholeText(client, 'completions', ARM, 'x', params(1), ac.signal, 5000).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(StallError);
  });
});

describe('StreamChoice', () => {
  const stall = 30_000;
  test('always and never are what they say', () => {
    const c = new StreamChoice();
    expect(c.streams('e', 'always', stall)).toBe(true);
    expect(c.streams('e', 'never', stall)).toBe(false);
  });

  test('auto streams until it has seen enough calls, then goes whole while they all end inside a third of the stall timeout', () => {
    const c = new StreamChoice();
    for (let i = 0; i < StreamChoice.LEARN - 1; i++) c.observe('e', 1000);
    expect(c.streams('e', 'auto', stall)).toBe(true);
    c.observe('e', 1000);
    expect(c.streams('e', 'auto', stall)).toBe(false);
    // Endpoints are learned apart.
    expect(c.streams('other', 'auto', stall)).toBe(true);
    // One slow call sends the endpoint back to streaming until it leaves the window.
    c.observe('e', 10_000);
    expect(c.streams('e', 'auto', stall)).toBe(true);
    for (let i = 0; i < StreamChoice.WINDOW - 1; i++) c.observe('e', 1000);
    expect(c.streams('e', 'auto', stall)).toBe(true);
    c.observe('e', 1000);
    expect(c.streams('e', 'auto', stall)).toBe(false);
  });

  test('generate goes whole once learned; a whole call that stalls counts as the timeout, so the retry streams', async () => {
    const c = new StreamChoice();
    const prompt = thoughtPrompt(DEFAULT_THOUGHT_TEMPLATE, ROWS[0]!.prefix);
    const seen: boolean[] = [];
    for (let i = 0; i < StreamChoice.LEARN + 2; i++) seen.push((await c.generate('e', 'auto', client, 'completions', ARM, prompt, params(i), never(), 3000)).streamed!);
    expect(seen.slice(0, StreamChoice.LEARN)).toEqual(Array(StreamChoice.LEARN).fill(true));
    expect(seen.slice(StreamChoice.LEARN)).toEqual([false, false]);
    server.setFaults([{ kind: 'stall', model: ARM, count: 1 }]);
    await expect(c.generate('e', 'auto', client, 'completions', ARM, prompt, params(99), never(), 300)).rejects.toBeInstanceOf(StallError);
    const retry = await c.generate('e', 'auto', client, 'completions', ARM, prompt, params(99), never(), 300);
    expect(retry.streamed).toBe(true);
    expect(retry.text.length).toBeGreaterThan(0);
  });
});

import OpenAI from 'openai';
import { startSimServer, type DatasetRow, type SimServer } from '../../src/sim';
import { classifyThought } from '../../src/sim/arm';
import { RowIndex } from '../../src/sim/rows';

const ROWS: DatasetRow[] = [
  {
    id: 'r0',
    prefix: 'The lighthouse keeper climbed the spiral stairs every evening before sunset. ',
    suffix:
      'He polished the enormous brass lens, trimmed the wick, and checked the clockwork mechanism that rotated the beam. ' +
      'Storms rolled across the harbor most winters, yet the flame never failed while he kept watch over the rocky coastline and the fishing boats returning home.',
  },
  {
    id: 'r1',
    prefix: 'Photosynthesis converts light energy into chemical energy inside plant cells.',
    suffix:
      'Chlorophyll molecules absorb photons, exciting electrons that travel through an electron transport chain embedded in thylakoid membranes. ' +
      'This process splits water, releases oxygen, and produces molecules that later power carbon fixation during the Calvin cycle in the stroma.',
  },
  {
    id: 'r2',
    prefix: 'The startup raised its first funding round in a cramped garage office.',
    suffix:
      'Investors liked the prototype dashboard, although the founders admitted their revenue projections were optimistic. ' +
      'Within eighteen months they hired forty engineers, signed enterprise customers across Europe, and moved headquarters into a renovated warehouse downtown.',
  },
  {
    id: 'r3',
    prefix: 'Medieval cathedrals took generations of craftsmen to complete.',
    suffix:
      'Stonemasons carved gargoyles and flying buttresses while glaziers assembled stained windows depicting biblical scenes. ' +
      'Wealthy guilds financed chapels, bishops argued over budgets, and pilgrims travelled enormous distances to admire the soaring vaulted ceilings.',
  },
];
const ARM = 'think_base';
const JUDGE = 'qwen-judge';

let server: SimServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startSimServer({ port: 0, rows: ROWS });
  client = new OpenAI({ baseURL: server.url, apiKey: 'x', maxRetries: 0 });
});
afterAll(() => server.close());
afterEach(() => server.setFaults([]));

const thoughtPrompt = (r: DatasetRow) => `${r.prefix.trimEnd()} <think>`;
const suffixPrompt = (r: DatasetRow, thought: string) => `${r.prefix.trimEnd()} <think>${thought.trim()}</think>`;
const judgePrompt = (ctx: string, ref: string, pred: string) =>
  `Score the prediction.\n<context>${ctx}</context>\n<reference>${ref}</reference>\n<prediction>${pred}</prediction>\nAnswer {"score": 0|1}.`;

async function complete(prompt: string, seed: number, extra: Partial<OpenAI.CompletionCreateParamsNonStreaming> = {}) {
  const r = await client.completions.create({ model: ARM, prompt, max_tokens: 200, temperature: 1, seed, ...extra });
  return r.choices[0].text;
}
async function judge(ref: string, pred: string, seed = 0): Promise<string> {
  const r = await client.chat.completions.create({ model: JUDGE, seed, messages: [{ role: 'user', content: judgePrompt('ctx', ref, pred) }] });
  return r.choices[0].message.content ?? '';
}

test('same request gives the same output; responses are labelled simulated', async () => {
  const a = await client.completions.create({ model: ARM, prompt: thoughtPrompt(ROWS[0]), max_tokens: 100, seed: 7, stop: ['</think>'] });
  const b = await client.completions.create({ model: ARM, prompt: thoughtPrompt(ROWS[0]), max_tokens: 100, seed: 7, stop: ['</think>'] });
  expect(a.choices[0].text).toBe(b.choices[0].text);
  expect(a.system_fingerprint).toBe('thought-probe-sim');
  const n = a.choices[0].text.split(/\s+/).length;
  expect(n).toBeGreaterThanOrEqual(28);
  expect(n).toBeLessThanOrEqual(42);
  expect(a.usage?.completion_tokens).toBe(n);
  const short = await complete(thoughtPrompt(ROWS[0]), 7, { max_tokens: 5 });
  expect(short.split(/\s+/)).toHaveLength(5);
});

test('own thoughts help and swapped thoughts hurt (judged, many seeds)', async () => {
  const wins = { own: 0, swapped: 0 };
  let n = 0;
  const draw = async (seed: number) => {
    const thoughts = await Promise.all(ROWS.map((r) => complete(thoughtPrompt(r), seed, { stop: ['</think>'] })));
    await Promise.all(
      ROWS.map(async (r, i) => {
        const conds = { own: thoughts[i], swapped: thoughts[(i + 1) % ROWS.length] };
        for (const [k, t] of Object.entries(conds) as Array<[keyof typeof wins, string]>) {
          const pred = await complete(suffixPrompt(r, t), seed);
          const verdict = JSON.parse(await judge(r.suffix, pred, seed)) as { score: number };
          wins[k] += verdict.score;
        }
        n++;
      }),
    );
  };
  for (let s0 = 0; s0 < 100; s0 += 25) await Promise.all(Array.from({ length: 25 }, (_, k) => draw(s0 + k)));
  expect(n).toBe(400);
  expect(wins.own / n).toBeGreaterThan(wins.swapped / n + 0.05);
});

test('thoughts are classified as own, swapped, blank or generic', async () => {
  const index = new RowIndex(ROWS);
  const scaffolds = [
    'Keep the same voice and carry the text forward one step.',
    'Stay consistent with what came before and continue the passage naturally here.',
    'Follow the thread of the passage and write what comes next.',
    'Continue in the same style, staying close to the topic already introduced.',
  ];
  for (const [i, r] of ROWS.entries()) {
    const row = index.rows[i];
    const own = await complete(thoughtPrompt(r), 5, { stop: ['</think>'] });
    const other = await complete(thoughtPrompt(ROWS[(i + 1) % ROWS.length]), 5, { stop: ['</think>'] });
    expect(classifyThought(own, row, index)).toBe('own');
    expect(classifyThought(other, row, index)).toBe('swapped');
    expect(classifyThought('  ', row, index)).toBe('blank');
    for (const g of scaffolds) expect(classifyThought(g, row, index)).toBe('generic');
  }
});

test('judge scores a copy 1 and unrelated text 0; missing tags give 0', async () => {
  expect(await judge(ROWS[1].suffix, ROWS[1].suffix)).toBe('{"score": 1}');
  expect(await judge(ROWS[1].suffix, ROWS[2].suffix)).toBe('{"score": 0}');
  const r = await client.chat.completions.create({ model: JUDGE, messages: [{ role: 'user', content: 'no tags here' }] });
  expect(r.choices[0].message.content).toBe('{"score": 0}');
});

test('streaming works for completions and chat, matching non-stream output', async () => {
  const prompt = suffixPrompt(ROWS[2], '');
  const full = await complete(prompt, 3);
  const s = await client.completions.create({ model: ARM, prompt, max_tokens: 200, seed: 3, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish: string | null = null;
  let usage = 0;
  for await (const c of s) {
    text += c.choices[0]?.text ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
    usage = c.usage?.completion_tokens ?? usage;
  }
  expect(text).toBe(full);
  expect(finish).toBe('stop');
  expect(usage).toBe(full.split(/\s+/).length);

  const cs = await client.chat.completions.create({ model: ARM, seed: 3, stream: true, messages: [{ role: 'user', content: prompt }] });
  let chat = '';
  for await (const c of cs) chat += c.choices[0]?.delta?.content ?? '';
  expect(chat).toBe(full);
});

test('unknown model is a 404 like vLLM', async () => {
  const err = await client.completions.create({ model: 'nope', prompt: 'x' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OpenAI.APIError);
  expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
  expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('The model `nope` does not exist.');
  const models = await client.models.list();
  expect(models.data.map((m) => m.id)).toContain(JUDGE);
});

test('apiKey enforces bearer auth', async () => {
  const s = await startSimServer({ port: 0, rows: ROWS, apiKey: 'secret' });
  try {
    const bad = new OpenAI({ baseURL: s.url, apiKey: 'wrong', maxRetries: 0 });
    const err = await bad.models.list().catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    const good = new OpenAI({ baseURL: s.url, apiKey: 'secret', maxRetries: 0 });
    expect((await good.models.list()).data.length).toBe(5);
  } finally {
    await s.close();
  }
});

test('stats count requests and peak concurrency', async () => {
  const s = await startSimServer({ port: 0, rows: ROWS, latencyMs: 100 });
  try {
    const c = new OpenAI({ baseURL: s.url, apiKey: 'x', maxRetries: 0 });
    await Promise.all([1, 2, 3, 4, 5].map((seed) => c.completions.create({ model: ARM, prompt: thoughtPrompt(ROWS[0]), seed })));
    const st = s.stats();
    expect(st.simulated).toBe(true);
    expect(st.models[ARM]).toMatchObject({ requests: 5, completed: 5, errors: 0, inFlight: 0, peakConcurrent: 5 });
    expect(st.totalRequests).toBe(5);
    const http = (await (await fetch(s.url.replace('/v1', '/stats'))).json()) as { totalRequests: number };
    expect(http.totalRequests).toBe(5);
    s.resetStats();
    expect(s.stats().totalRequests).toBe(0);
  } finally {
    await s.close();
  }
});

describe('faults', () => {
  const call = () => client.completions.create({ model: ARM, prompt: thoughtPrompt(ROWS[0]), seed: 1 });
  const fail = () => call().then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

  test('503 and 429 with retry-after, count and afterRequests', async () => {
    server.setFaults([{ kind: '503', count: 1 }]);
    expect((await fail())?.status).toBe(503);
    expect(await fail()).toBeUndefined();
    server.setFaults([{ kind: '429', retryAfterSeconds: 7, afterRequests: 1 }]);
    expect(await fail()).toBeUndefined();
    const e = await fail();
    expect(e?.status).toBe(429);
    expect(e?.headers?.get('retry-after')).toBe('7');
  });

  test('garbage, reset and down make the client throw', async () => {
    server.resetStats();
    server.setFaults([{ kind: 'garbage' }]);
    expect((await fail())?.name).toBe('SyntaxError'); // truncated JSON body
    server.setFaults([{ kind: 'reset' }]);
    expect(await fail()).toBeInstanceOf(OpenAI.APIConnectionError);
    server.setFaults([{ kind: 'down', model: ARM }]);
    expect(await fail()).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(server.stats().models[ARM]).toMatchObject({ requests: 3, errors: 3, completed: 0 });
  });

  test('stall hangs a stream until the client aborts', async () => {
    server.setFaults([{ kind: 'stall' }]);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    const s = await client.completions.create({ model: ARM, prompt: thoughtPrompt(ROWS[0]), seed: 1, stream: true }, { signal: ac.signal });
    let chunks = 0;
    // the openai client ends an aborted stream quietly (or throws an abort error, depending on timing)
    await (async () => {
      for await (const c of s) chunks += c ? 1 : 0;
    })().catch((e: unknown) => e);
    clearTimeout(timer);
    expect(chunks).toBe(1);
    expect(ac.signal.aborted).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  test('invalid makes the judge answer without a score', async () => {
    server.setFaults([{ kind: 'invalid', model: JUDGE }]);
    expect(await judge('a b c', 'a b c')).not.toMatch(/score/);
    expect(await complete(thoughtPrompt(ROWS[0]), 1)).toMatch(/\w/);
  });
});

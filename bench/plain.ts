// A plain in-process runner of the experiment, the baseline for thought-probe's schedule: the same model calls
// through the same openai client and the same experiment core, each endpoint behind a first-come-first-served
// promise pool with the run's caps. No Temporal, no store, no retries. With transport `fetch` it is the simplest
// script a researcher would write instead: plain non-streaming fetch calls. Not part of the test suite.
import OpenAI from 'openai';
import { requestBody, streamText, type SamplingParams } from '../src/activities/stream';
import { pointAtSim } from '../src/cli/demo';
import type { RunConfig } from '../src/config/schema';
import { selectRows } from '../src/config/validate';
import type { Condition } from '../src/experiment/conditions';
import { seededDerangement } from '../src/experiment/derangement';
import { scoreRecord, type ScoredRecord } from '../src/experiment/metrics';
import { cleanSuffix, extractThought, judgePrompt, parseJudgeScore, suffixPrompt, thoughtPrompt, THOUGHT_STOP } from '../src/experiment/prompts';
import { hash32 } from '../src/experiment/rng';
import { genericThoughtFor } from '../src/experiment/scaffolds';
import { requestSeed } from '../src/experiment/seeds';
import { buildSummary, type Summary } from '../src/experiment/summary';

/** What one endpoint's pool saw: tasks, the first start and last end (ms from the run's start), peak in flight. */
export interface PoolStats {
  cap: number;
  /** Tasks run (a judgment with its invalid-answer retries is one task). */
  tasks: number;
  firstStartMs: number | null;
  lastEndMs: number | null;
  peakInFlight: number;
}

/** What a plain run returns. */
export interface PlainResult {
  runId: string;
  /** From the first request's scheduling to the summary. */
  ms: number;
  requests: { total: number; judge: number; arms: Record<string, { thought: number; suffix: number }> };
  /** Per pool: `arm <name>` and `judge`. */
  pools: Record<string, PoolStats>;
  /** Samples that failed (a request error; no retries here): their reward is null, as in thought-probe. */
  errors: { arm: string; prefixId: string; sample: number; condition: string; error: string }[];
  summary: Summary;
}

/**
 * How a plain run talks to its servers: `stream`, through the openai client with streaming (thought-probe's own
 * generation path, src/activities/stream.ts), or `fetch`, the simplest script a researcher would write: Node's
 * global fetch, one non-streaming POST per call, the JSON answer parsed whole.
 */
export type PlainTransport = 'stream' | 'fetch';

/** The fields of a non-streaming completions or chat answer a plain run reads. */
interface FetchedAnswer {
  choices?: { text?: string; message?: { content?: string }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  system_fingerprint?: string;
}

/** One non-streaming call by plain fetch: the body of a completions (`prompt`) or chat (`messages`) request. */
async function fetchJson(baseURL: string, apiKey: string, path: 'completions' | 'chat/completions', body: object, timeoutMs: number): Promise<FetchedAnswer> {
  const res = await fetch(`${baseURL.replace(/\/+$/, '')}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as FetchedAnswer;
}

/** A first-come-first-served pool: at most `cap` tasks run at once, the others wait in arrival order. */
class Pool {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  readonly stats: PoolStats;

  constructor(cap: number, private readonly t0: number) {
    this.stats = { cap, tasks: 0, firstStartMs: null, lastEndMs: null, peakInFlight: 0 };
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.inFlight++;
        this.stats.tasks++;
        this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight);
        this.stats.firstStartMs ??= Date.now() - this.t0;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.inFlight--;
            this.stats.lastEndMs = Date.now() - this.t0;
            this.waiting.shift()?.();
          });
      };
      if (this.inFlight < this.stats.cap) start();
      else this.waiting.push(start);
    });
  }
}

interface Thought {
  thought: string;
  closedThought: boolean;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs every arm's thoughts, its four conditions' suffixes (normal after its own thought, swapped after its
 * donor's, blank and generic at once) and a judgment per suffix, as thought-probe would, with `simUrl` (when
 * given) taking the place of every arm's and the judge's baseURL. Returns the makespan, counts and summary.
 */
export async function runPlain(opts: { config: RunConfig; simUrl?: string; runId?: string; transport?: PlainTransport }): Promise<PlainResult> {
  const transport = opts.transport ?? 'stream';
  const config = opts.simUrl ? pointAtSim(opts.config, opts.simUrl) : opts.config;
  const runId = opts.runId ?? `plain-${config.name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
  const rows = selectRows(config);
  const g = config.generation;
  const j = config.judge;
  const timeoutMs = g.requestTimeoutSeconds * 1000;
  const stallMs = g.stallTimeoutSeconds * 1000;
  // As clientFor: one client per endpoint, no client retries, the request timeout of the config.
  const clients = new Map<string, OpenAI>();
  const keyOf = (baseURL: string, apiKeyEnv: string | undefined) => {
    const apiKey = apiKeyEnv ? process.env[apiKeyEnv] : 'not-needed';
    if (!apiKey) throw new Error(`environment variable ${apiKeyEnv} (apiKeyEnv for ${baseURL}) is not set`);
    return apiKey;
  };
  const clientOf = (baseURL: string, apiKeyEnv: string | undefined) => {
    const key = `${baseURL}\u0000${apiKeyEnv ?? ''}`;
    let c = clients.get(key);
    if (!c) {
      c = new OpenAI({ baseURL, apiKey: keyOf(baseURL, apiKeyEnv), maxRetries: 0, timeout: timeoutMs });
      clients.set(key, c);
    }
    return c;
  };
  // One generation: streamed through the openai client, or one plain fetch.
  const generateText = async (arm: RunConfig['arms'][number], client: OpenAI, prompt: string, p: SamplingParams): Promise<{ text: string; finishReason: string | null; simulated: boolean }> => {
    if (transport === 'stream') return streamText(client, config.prompt.mode, arm.model, prompt, p, never(), stallMs);
    const common = requestBody(arm.model, p);
    const chat = config.prompt.mode === 'chat';
    const a = await fetchJson(arm.baseURL, keyOf(arm.baseURL, arm.apiKeyEnv), chat ? 'chat/completions' : 'completions', chat ? { ...common, messages: [{ role: 'user', content: prompt }] } : { ...common, prompt }, timeoutMs);
    const c = a.choices?.[0];
    return { text: (chat ? c?.message?.content : c?.text) ?? '', finishReason: c?.finish_reason ?? null, simulated: a.system_fingerprint === 'thought-probe-sim' };
  };
  const judgeClient = clientOf(j.baseURL, j.apiKeyEnv);
  // streamText links a cancel signal per request; nothing here cancels, so each request gets its own idle one.
  const never = () => new AbortController().signal;
  const needsThought = config.conditions.some((c) => c === 'normal_model_thought' || c === 'same_arm_swapped_thought');
  const records: ScoredRecord[] = [];
  const errors: PlainResult['errors'] = [];
  const requests: PlainResult['requests'] = { total: 0, judge: 0, arms: {} };
  let simulated = false;

  const t0 = Date.now();
  const judgePool = new Pool(j.maxConcurrency, t0);
  const pools: Record<string, Pool> = { judge: judgePool };

  const runArm = async (arm: RunConfig['arms'][number]): Promise<void> => {
    const pool = (pools[`arm ${arm.name}`] = new Pool(arm.maxConcurrency, t0));
    const client = clientOf(arm.baseURL, arm.apiKeyEnv);
    const counts = (requests.arms[arm.name] = { thought: 0, suffix: 0 });
    const swap = config.conditions.includes('same_arm_swapped_thought')
      ? seededDerangement(rows.length, { seed: hash32(`${config.seed}|swap|${arm.name}`), ...(config.dataset.avoidSameSource ? { sourceIds: rows.map((r) => r.sourceId) } : {}) })
      : null;
    // donors[p] = the slots whose swapped suffix takes prefix p's thought.
    const donors = rows.map((_, p) => (swap ?? []).flatMap((from, slot) => (from === p ? [slot] : [])));
    const fail = (i: number, sample: number, condition: string, error: string) => {
      errors.push({ arm: arm.name, prefixId: rows[i]!.id, sample, condition, error });
      records.push({ arm: arm.name, condition, prefixId: rows[i]!.id, sample, reward: null, thoughtWords: 0, suffixWords: 0 });
    };

    const judgeOne = async (i: number, sample: number, condition: Condition, thought: string, suffix: string): Promise<void> => {
      const row = rows[i]!;
      const content = judgePrompt(j.prompt, row.prefix, row.suffix, suffix);
      try {
        const reward = await judgePool.run(async () => {
          let r: 0 | 1 | null = null;
          for (let attempt = 0; r === null && attempt <= j.invalidRetries; attempt++) {
            requests.judge++;
            requests.total++;
            const body = {
              model: j.model,
              messages: [{ role: 'user' as const, content }],
              temperature: j.temperature,
              top_p: j.topP,
              max_tokens: j.maxTokens,
              seed: requestSeed(config.seed, arm.name, row.id, sample, 'judge', condition, attempt),
            };
            const res = transport === 'stream' ? await judgeClient.chat.completions.create(body) : await fetchJson(j.baseURL, keyOf(j.baseURL, j.apiKeyEnv), 'chat/completions', body, timeoutMs);
            if (res.system_fingerprint === 'thought-probe-sim') simulated = true;
            r = parseJudgeScore(res.choices?.[0]?.message?.content ?? '', j.scorePattern);
          }
          return r;
        });
        records.push(scoreRecord({ arm: arm.name, condition, prefixId: row.id, sample, reward, thought, suffix }));
      } catch (e) {
        fail(i, sample, condition, `judge: ${message(e)}`);
      }
    };

    const suffixThenJudge = async (i: number, sample: number, condition: Condition, thought: string): Promise<void> => {
      const row = rows[i]!;
      let suffix: string;
      try {
        const out = await pool.run(() => {
          counts.suffix++;
          requests.total++;
          return generateText(arm, client, suffixPrompt(config.prompt.suffix, row.prefix, thought), {
            maxTokens: g.suffixMaxTokens, temperature: g.temperature, topP: g.topP,
            seed: requestSeed(config.seed, arm.name, row.id, sample, 'suffix', condition),
          });
        });
        simulated ||= out.simulated;
        suffix = cleanSuffix(out.text);
      } catch (e) {
        return fail(i, sample, condition, message(e));
      }
      await judgeOne(i, sample, condition, thought.trim(), suffix);
    };

    const thoughtThenSuffixes = async (i: number, sample: number): Promise<void> => {
      const row = rows[i]!;
      let t: Thought;
      try {
        const out = await pool.run(() => {
          counts.thought++;
          requests.total++;
          return generateText(arm, client, thoughtPrompt(config.prompt.thought, row.prefix), {
            maxTokens: g.thoughtMaxTokens, temperature: g.temperature, topP: g.topP, stop: [THOUGHT_STOP],
            seed: requestSeed(config.seed, arm.name, row.id, sample, 'thought'),
          });
        });
        simulated ||= out.simulated;
        t = extractThought(out.text, out.finishReason);
      } catch (e) {
        const why = `thought of ${row.id}/${sample} failed: ${message(e)}`;
        if (config.conditions.includes('normal_model_thought')) fail(i, sample, 'normal_model_thought', why);
        if (swap) for (const slot of donors[i]!) fail(slot, sample, 'same_arm_swapped_thought', why);
        return;
      }
      const next: Promise<void>[] = [];
      if (config.conditions.includes('normal_model_thought')) next.push(suffixThenJudge(i, sample, 'normal_model_thought', t.thought));
      if (swap) for (const slot of donors[i]!) next.push(suffixThenJudge(slot, sample, 'same_arm_swapped_thought', t.thought));
      await Promise.all(next);
    };

    // Sample-major, so every prefix gets its first sample early; per slot its thought, then blank and generic.
    const all: Promise<void>[] = [];
    for (let k = 0; k < config.samplesPerPrefix; k++) {
      for (let i = 0; i < rows.length; i++) {
        if (needsThought) all.push(thoughtThenSuffixes(i, k));
        if (config.conditions.includes('blank_thought')) all.push(suffixThenJudge(i, k, 'blank_thought', ''));
        if (config.conditions.includes('generic_thought')) all.push(suffixThenJudge(i, k, 'generic_thought', genericThoughtFor(config.genericThoughts, i, k)));
      }
    }
    await Promise.all(all);
  };

  // Arms start in config order; within each pool, requests run in the order they became ready.
  await Promise.all(config.arms.map((a) => runArm(a)));
  const armOrder = config.arms.map((a) => a.name);
  const summary = buildSummary(records, { runId, simulated, armOrder });
  const ms = Date.now() - t0;
  return { runId, ms, requests, pools: Object.fromEntries(Object.entries(pools).map(([k, p]) => [k, p.stats])), errors, summary };
}

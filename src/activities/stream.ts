import type OpenAI from 'openai';

/** Sampling settings of one request. */
export interface SamplingParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  stop?: string[];
}

/** What a generation returned. */
export interface Generated {
  text: string;
  finishReason: string | null;
  usage?: { promptTokens?: number; completionTokens?: number };
  simulated: boolean;
  ms: number;
  /** Whether the text came as a stream (false: as one answer). */
  streamed?: boolean;
}

/** A server that went silent: a stream with no token, or a whole answer not come, for too long. */
export class StallError extends Error {
  constructor(seconds: number, whole = false) {
    super(whole ? `request stalled: no answer for ${seconds}s` : `stream stalled: no tokens for ${seconds}s`);
    this.name = 'StallError';
  }
}

/** The sampling fields of a completions or chat request body. */
export function requestBody(model: string, p: SamplingParams) {
  return {
    model,
    max_tokens: p.maxTokens,
    temperature: p.temperature,
    top_p: p.topP,
    seed: p.seed,
    ...(p.stop ? { stop: p.stop } : {}),
  };
}

/**
 * Runs one request under the stall watchdog: `request` gets the signal to pass to the client and a function that
 * pushes the deadline back (a stream calls it per chunk; a whole answer never does, so its whole call is timed).
 * The activity's cancellation aborts the request too. A request the watchdog ended throws StallError, whatever the
 * client made of the abort; one the activity cancelled throws the cancellation.
 */
async function watched<T>(cancel: AbortSignal, stallMs: number, whole: boolean, request: (signal: AbortSignal, alive: () => void) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onCancel = () => abort.abort(cancel.reason);
  cancel.addEventListener('abort', onCancel);
  let stalled = false;
  // One timer per request, pushed back by every chunk (refresh is cheaper than a new timer per token).
  const timer = setTimeout(() => {
    stalled = true;
    abort.abort(new StallError(stallMs / 1000, whole));
  }, stallMs);
  let out: T;
  try {
    out = await request(abort.signal, () => timer.refresh());
  } catch (e) {
    if (stalled) throw new StallError(stallMs / 1000, whole);
    throw e;
  } finally {
    clearTimeout(timer);
    cancel.removeEventListener('abort', onCancel);
  }
  // The openai client ends an aborted stream quietly: a cut-short text must never pass for a finished one.
  if (stalled) throw new StallError(stallMs / 1000, whole);
  if (abort.signal.aborted) throw cancel.reason ?? new Error('generation cancelled');
  return out;
}

const usageOf = (u: OpenAI.CompletionUsage | null | undefined): Generated['usage'] => (u ? { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens } : undefined);

/**
 * Generates text through the openai client with streaming, in completions or chat mode. A watchdog aborts the
 * request when no token arrives for `stallMs`, so a stalled stream is retried in seconds, not at the timeout.
 */
export async function streamText(
  client: OpenAI,
  mode: 'completions' | 'chat',
  model: string,
  prompt: string,
  p: SamplingParams,
  cancel: AbortSignal,
  stallMs: number,
): Promise<Generated> {
  const started = Date.now();
  const common = { ...requestBody(model, p), stream: true as const, stream_options: { include_usage: true } };
  let text = '';
  let finishReason: string | null = null;
  let usage: Generated['usage'];
  let simulated = false;
  await watched(cancel, stallMs, false, async (signal, alive) => {
    if (mode === 'completions') {
      const stream = await client.completions.create({ ...common, prompt }, { signal });
      for await (const chunk of stream) {
        alive();
        const c = chunk.choices?.[0];
        if (c?.text) text += c.text;
        if (c?.finish_reason) finishReason = c.finish_reason;
        if (chunk.usage) usage = usageOf(chunk.usage);
        if ((chunk as { system_fingerprint?: string }).system_fingerprint === 'thought-probe-sim') simulated = true;
      }
    } else {
      const stream = await client.chat.completions.create({ ...common, messages: [{ role: 'user', content: prompt }] }, { signal });
      for await (const chunk of stream) {
        alive();
        const c = chunk.choices?.[0];
        if (c?.delta?.content) text += c.delta.content;
        if (c?.finish_reason) finishReason = c.finish_reason;
        if (chunk.usage) usage = usageOf(chunk.usage);
        if (chunk.system_fingerprint === 'thought-probe-sim') simulated = true;
      }
    }
  });
  return { text, finishReason, usage, simulated, ms: Date.now() - started, streamed: true };
}

/**
 * Generates text as one answer, without streaming. The same watchdog times the whole call: a server that has not
 * answered after `stallMs` is given up on as stalled, exactly as a stream silent that long would be.
 */
export async function wholeText(
  client: OpenAI,
  mode: 'completions' | 'chat',
  model: string,
  prompt: string,
  p: SamplingParams,
  cancel: AbortSignal,
  stallMs: number,
): Promise<Generated> {
  const started = Date.now();
  const common = requestBody(model, p);
  const got = await watched(cancel, stallMs, true, async (signal) => {
    if (mode === 'completions') {
      const r = await client.completions.create({ ...common, prompt }, { signal });
      const c = r.choices?.[0];
      return { text: c?.text ?? '', finishReason: c?.finish_reason ?? null, usage: usageOf(r.usage), fingerprint: r.system_fingerprint };
    }
    const r = await client.chat.completions.create({ ...common, messages: [{ role: 'user', content: prompt }] }, { signal });
    const c = r.choices?.[0];
    return { text: c?.message?.content ?? '', finishReason: c?.finish_reason ?? null, usage: usageOf(r.usage), fingerprint: r.system_fingerprint };
  });
  return { text: got.text, finishReason: got.finishReason, usage: got.usage, simulated: got.fingerprint === 'thought-probe-sim', ms: Date.now() - started, streamed: false };
}

/** How a run's generations travel: `auto` (see StreamChoice), always streamed, or always as one answer. */
export type StreamSetting = 'auto' | 'always' | 'never';

/**
 * Whether an endpoint's next generation streams, decided per endpoint on one worker. Streaming exists so that a
 * stall is noticed while a long answer is still arriving; a call that always ends well inside the stall timeout
 * gains nothing from it and costs the client a parsed event per piece. So under `auto` an endpoint's calls stream
 * until 16 have finished, then go as one answer (timed whole by the same watchdog) while the slowest of its last 64
 * took under a third of the stall timeout, and stream again as soon as one is slower or stalls.
 */
export class StreamChoice {
  static readonly WINDOW = 64;
  static readonly LEARN = 16;
  private readonly recent = new Map<string, { ms: number[]; next: number }>();

  /** Whether the next call of `key` streams. */
  streams(key: string, setting: StreamSetting, stallMs: number): boolean {
    if (setting !== 'auto') return setting === 'always';
    const r = this.recent.get(key);
    if (!r || r.ms.length < StreamChoice.LEARN) return true;
    let slowest = 0;
    for (const ms of r.ms) if (ms > slowest) slowest = ms;
    return slowest * 3 >= stallMs;
  }

  /** Records how long a finished call of `key` took (a stall counts as the whole timeout). */
  observe(key: string, ms: number): void {
    let r = this.recent.get(key);
    if (!r) this.recent.set(key, (r = { ms: [], next: 0 }));
    if (r.ms.length < StreamChoice.WINDOW) r.ms.push(ms);
    else r.ms[r.next] = ms;
    r.next = (r.next + 1) % StreamChoice.WINDOW;
  }

  /** One generation for `key`, streamed or whole as decided above, its time recorded. */
  async generate(
    key: string,
    setting: StreamSetting,
    client: OpenAI,
    mode: 'completions' | 'chat',
    model: string,
    prompt: string,
    p: SamplingParams,
    cancel: AbortSignal,
    stallMs: number,
  ): Promise<Generated> {
    const call = this.streams(key, setting, stallMs) ? streamText : wholeText;
    try {
      const out = await call(client, mode, model, prompt, p, cancel, stallMs);
      this.observe(key, out.ms);
      return out;
    } catch (e) {
      if (e instanceof StallError) this.observe(key, stallMs);
      throw e;
    }
  }
}

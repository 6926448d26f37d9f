import type OpenAI from 'openai';

/** Sampling settings of one request. */
export interface SamplingParams {
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  stop?: string[];
}

/** What a streamed generation returned. */
export interface Generated {
  text: string;
  finishReason: string | null;
  usage?: { promptTokens?: number; completionTokens?: number };
  simulated: boolean;
  ms: number;
}

/** A stream that went silent: headers sent, then nothing for too long. */
export class StallError extends Error {
  constructor(seconds: number) {
    super(`stream stalled: no tokens for ${seconds}s`);
    this.name = 'StallError';
  }
}

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
  const abort = new AbortController();
  const onCancel = () => abort.abort(cancel.reason);
  cancel.addEventListener('abort', onCancel);
  let stalled = false;
  // One timer per request, pushed back by every chunk (refresh is cheaper than a new timer per token).
  const timer = setTimeout(() => {
    stalled = true;
    abort.abort(new StallError(stallMs / 1000));
  }, stallMs);
  const arm = () => timer.refresh();
  const common = {
    model,
    max_tokens: p.maxTokens,
    temperature: p.temperature,
    top_p: p.topP,
    seed: p.seed,
    ...(p.stop ? { stop: p.stop } : {}),
    stream: true as const,
    stream_options: { include_usage: true },
  };
  let text = '';
  let finishReason: string | null = null;
  let usage: Generated['usage'];
  let simulated = false;
  arm();
  try {
    if (mode === 'completions') {
      const stream = await client.completions.create({ ...common, prompt }, { signal: abort.signal });
      for await (const chunk of stream) {
        arm();
        const c = chunk.choices?.[0];
        if (c?.text) text += c.text;
        if (c?.finish_reason) finishReason = c.finish_reason;
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        if ((chunk as { system_fingerprint?: string }).system_fingerprint === 'thought-probe-sim') simulated = true;
      }
    } else {
      const stream = await client.chat.completions.create({ ...common, messages: [{ role: 'user', content: prompt }] }, { signal: abort.signal });
      for await (const chunk of stream) {
        arm();
        const c = chunk.choices?.[0];
        if (c?.delta?.content) text += c.delta.content;
        if (c?.finish_reason) finishReason = c.finish_reason;
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        if (chunk.system_fingerprint === 'thought-probe-sim') simulated = true;
      }
    }
  } catch (e) {
    if (stalled) throw new StallError(stallMs / 1000);
    throw e;
  } finally {
    clearTimeout(timer);
    cancel.removeEventListener('abort', onCancel);
  }
  // The openai client ends an aborted stream quietly: a cut-short text must never pass for a finished one.
  if (stalled) throw new StallError(stallMs / 1000);
  if (abort.signal.aborted) throw cancel.reason ?? new Error('generation cancelled');
  return { text, finishReason, usage, simulated, ms: Date.now() - started };
}

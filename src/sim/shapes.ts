import { words } from './text';

/** Marks every response as coming from the simulator. */
export const FINGERPRINT = 'thought-probe-sim';

/** Which OpenAI endpoint a response is for. */
export type Api = 'completions' | 'chat';

/** Everything needed to render a response in OpenAI shapes. */
export interface Reply {
  api: Api;
  id: string;
  model: string;
  created: number;
  text: string;
  finish: 'stop' | 'length';
  promptText: string;
}

/** OpenAI-style error body. */
export function errorBody(message: string, type: string, code: number | string | null, param: string | null = null): object {
  return { error: { message, type, param, code } };
}

/** Usage counted in whitespace-separated words. */
export function usage(r: Reply): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const p = words(r.promptText).length;
  const c = words(r.text).length;
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
}

/** Non-streaming response body ('text_completion' or 'chat.completion'). */
export function fullBody(r: Reply): object {
  const choice =
    r.api === 'chat'
      ? { index: 0, message: { role: 'assistant', content: r.text, refusal: null }, finish_reason: r.finish, logprobs: null }
      : { index: 0, text: r.text, finish_reason: r.finish, logprobs: null };
  return {
    id: r.id,
    object: r.api === 'chat' ? 'chat.completion' : 'text_completion',
    created: r.created,
    model: r.model,
    system_fingerprint: FINGERPRINT,
    choices: [choice],
    usage: usage(r),
  };
}

/** One streaming chunk; `piece` undefined with `finish` set renders the final chunk, `role` the chat opener. */
export function chunkBody(r: Reply, piece: string, finish: string | null, role = false): object {
  const choice =
    r.api === 'chat'
      ? { index: 0, delta: role ? { role: 'assistant', content: '' } : finish ? {} : { content: piece }, finish_reason: finish, logprobs: null }
      : { index: 0, text: piece, finish_reason: finish, logprobs: null };
  return {
    id: r.id,
    object: r.api === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: r.created,
    model: r.model,
    system_fingerprint: FINGERPRINT,
    choices: [choice],
  };
}

/** Final usage-only chunk (stream_options.include_usage). */
export function usageChunk(r: Reply): object {
  return { ...chunkBody(r, '', null), choices: [], usage: usage(r) };
}

/** Splits text into stream pieces of up to 4 words, keeping whitespace so pieces concatenate to the text. */
export function pieces(text: string): string[] {
  const toks = text.match(/\s*\S+/g) ?? [];
  const out: string[] = [];
  // At most 8 chunks per response: enough to exercise streaming and stall detection, few enough that a
  // simulated server under hundreds of concurrent streams measures the client, not its own timer churn.
  const per = Math.max(4, Math.ceil(toks.length / 8));
  for (let i = 0; i < toks.length; i += per) out.push(toks.slice(i, i + per).join(''));
  return out;
}

import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';

/** Error types that activities raise; workflows and retry policies refer to them by these names. */
export const ErrorType = {
  /** 401/403/404: bad key, wrong model name or URL. Fatal to the run. */
  Fatal: 'FatalEndpointError',
  /** 400 and the like: this sample's request cannot succeed; recorded as its error. */
  BadRequest: 'BadRequestError',
  /** 429: retried after Retry-After. */
  RateLimited: 'RateLimitError',
  /** Connection refused or reset, timeouts, 408, 409, 5xx, broken bodies, stalled streams: retried. */
  Transient: 'TransientEndpointError',
} as const;

/** Where a request went, for messages that name the endpoint and the model. */
export interface EndpointRef {
  role: string;
  baseURL: string;
  model: string;
}

/** How a failed request is handled: retried (after a delay), recorded for its sample, or fatal to the run. */
export type Classified =
  | { kind: 'retry'; message: string; type: string; delayMs?: number }
  | { kind: 'sample'; message: string }
  | { kind: 'fatal'; message: string };

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const v = headers?.get?.('retry-after');
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** Classifies a failed model request once, at the activity boundary, following ARCHITECTURE.md. */
export function classify(err: unknown, ep: EndpointRef): Classified {
  const where = `${ep.role} ${ep.baseURL} model "${ep.model}"`;
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const status = err.status;
    // The client's message already starts with the status ("404 The model ..."): keep just one.
    const detail = (err.message || '').replace(/\s+/g, ' ').replace(new RegExp(`^${status}\\s*`), '').slice(0, 300);
    if (status === 401 || status === 403) {
      return { kind: 'fatal', message: `${where}: ${status} ${detail}; check the API key in the environment variable named by apiKeyEnv` };
    }
    if (status === 404) {
      return { kind: 'fatal', message: `${where}: 404 ${detail}; check the model name and baseURL (GET ${ep.baseURL}/models lists what it serves)` };
    }
    if (status === 429) return { kind: 'retry', type: ErrorType.RateLimited, message: `${where}: 429 ${detail}`, delayMs: retryAfterMs(err.headers as Headers | undefined) };
    if (status === 408 || status === 409 || status >= 500) return { kind: 'retry', type: ErrorType.Transient, message: `${where}: ${status} ${detail}` };
    if (status >= 400 && status < 500) return { kind: 'sample', message: `${where}: ${status} ${detail}` };
  }
  const e = err as Error & { cause?: { code?: string } };
  const code = e?.cause?.code ?? (e as { code?: string })?.code;
  const message = `${where}: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}${code ? ` (${code})` : ''}`;
  // Connection errors, timeouts, aborted or stalled streams, unparsable bodies: the server may recover.
  return { kind: 'retry', type: ErrorType.Transient, message };
}

/** The failure an activity throws for a classified error. */
export function toFailure(c: Exclude<Classified, { kind: 'sample' }>): ApplicationFailure {
  if (c.kind === 'fatal') return ApplicationFailure.create({ message: c.message, type: ErrorType.Fatal, nonRetryable: true });
  return ApplicationFailure.create({
    message: c.message,
    type: c.type,
    nonRetryable: false,
    ...(c.delayMs !== undefined ? { nextRetryDelay: Math.max(1000, Math.ceil(c.delayMs)) } : {}),
  });
}

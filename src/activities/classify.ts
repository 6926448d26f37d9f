// Turns whatever an activity meets into one of our errors (src/errors), at the two boundaries where that is
// decided: a model call (everything thrown from inside the openai client is about the endpoint) and the activity
// itself (everything else, so an unclassified error fails as a bug instead of being retried as an outage).
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import OpenAI from 'openai';
import {
  BadRequestError,
  FatalEndpointError,
  InternalError,
  ProbeError,
  RateLimitError,
  StoreUnavailableError,
  TransientEndpointError,
  type EndpointRef,
} from '../errors';
import { noMetrics, type RequestMetrics, type RequestOutcome } from '../metrics/requests';

/** An endpoint and the config field that names it (`judge` or `arms[name=x]`), for messages that say what to fix. */
export interface Endpoint extends EndpointRef {
  field: string;
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const v = headers?.get?.('retry-after');
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** Classifies an error thrown by a request to an endpoint (see the README's error table). */
export function classifyEndpointError(err: unknown, ep: Endpoint): ProbeError {
  if (err instanceof ProbeError) return err;
  const ref: EndpointRef = { role: ep.role, baseURL: ep.baseURL, model: ep.model };
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const status = err.status;
    // The client's message already starts with the status ("404 The model ..."): keep just one.
    const detail = (err.message || '').replace(/\s+/g, ' ').replace(new RegExp(`^${status}\\s*`), '').slice(0, 300);
    if (status === 401 || status === 403 || status === 404) return new FatalEndpointError(ref, status, detail, ep.field);
    if (status === 429) return new RateLimitError(ref, detail, retryAfterMs(err.headers as Headers | undefined));
    if (status === 408 || status === 409 || status >= 500) return new TransientEndpointError(ref, detail, status);
    if (status >= 400 && status < 500) return new BadRequestError(ref, status, detail);
  }
  // Inside a model call, anything else is about the connection or the body: refused or reset connections,
  // timeouts, aborted or stalled streams, unparsable bodies. The server may recover.
  const e = err as Error & { cause?: { code?: string } };
  const code = e?.cause?.code ?? (e as { code?: string })?.code;
  return new TransientEndpointError(ref, `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}${code ? ` (${code})` : ''}`);
}

/** The metrics outcome of a classified request error. */
export function outcomeOf(err: ProbeError): RequestOutcome {
  if (err instanceof RateLimitError) return 'rate_limited';
  return err.retryable ? 'retryable' : 'fatal';
}

/**
 * Runs one model request, classifying anything it throws as an error of that endpoint, and counts it in `metrics`
 * (`judged` tells a valid answer from an invalid judgment).
 */
export async function callEndpoint<R>(ep: Endpoint, request: () => Promise<R>, metrics: RequestMetrics = noMetrics, judged?: (result: R) => boolean): Promise<R> {
  const end = metrics.start(ep);
  try {
    const result = await request();
    end(judged && !judged(result) ? 'invalid_judgment' : 'ok');
    return result;
  } catch (err) {
    const classified = classifyEndpointError(err, ep);
    end(outcomeOf(classified));
    throw classified;
  }
}

// System error codes of a store that may come back by itself (disk full, descriptors exhausted, a busy file).
const STORE_RETRYABLE_CODES = new Set(['ENOSPC', 'EIO', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);

/** Classifies an error met outside a model call: ours already are; a passing store fault is retried; the rest is a bug. */
export function classifyActivityError(err: unknown, activity: string): ProbeError {
  if (err instanceof ProbeError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && STORE_RETRYABLE_CODES.has(code)) {
    return new StoreUnavailableError(`store: ${(err as Error).message}`, { cause: err });
  }
  return new InternalError(activity, err);
}

/** What an activity throws for an error: Temporal's own failures pass through, everything else is classified. */
export function toActivityFailure(err: unknown, activity: string): Error {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  return classifyActivityError(err, activity).toFailure();
}

/**
 * Wraps an activity so that every error it throws is classified at its boundary. A cancelled activity (worker
 * shutdown, run closing) rethrows what it was given: cancellation says nothing about the work.
 */
export function atBoundary<A extends unknown[], R>(activity: string, fn: (...args: A) => Promise<R>, cancelled: () => boolean): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      if (cancelled()) throw err;
      throw toActivityFailure(err, activity);
    }
  };
}

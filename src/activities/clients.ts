import OpenAI from 'openai';
import { MissingApiKeyError } from '../errors';
import type { Endpoint } from './classify';
import { modelFetch } from './http';
import { StreamChoice } from './stream';

// A long-lived worker may meet many endpoints (a new simulated server per benchmark run): it keeps the newest.
const MAX_CLIENTS = 32;

/**
 * The openai clients of one worker, one per endpoint. Temporal owns retries, so a client never retries, and its
 * timeout stays below the activity's. Keys are read from the worker's environment when a client is made.
 */
export class ModelClients {
  private readonly clients = new Map<string, OpenAI>();
  /** Whether each endpoint's next generation streams (learned from its calls on this worker). */
  readonly streaming = new StreamChoice();

  constructor(
    /** The worker's identity, named when a key is missing. */
    private readonly worker: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The client for an endpoint; throws MissingApiKeyError when the variable its apiKeyEnv names is not set. */
  for(ep: Endpoint, apiKeyEnv: string | undefined, timeoutMs: number): OpenAI {
    const key = `${ep.baseURL}\u0000${apiKeyEnv ?? ''}\u0000${timeoutMs}`;
    let c = this.clients.get(key);
    if (!c) {
      let apiKey = 'not-needed';
      if (apiKeyEnv) {
        const v = this.env[apiKeyEnv];
        if (!v) throw new MissingApiKeyError(apiKeyEnv, { role: ep.role, baseURL: ep.baseURL, model: ep.model }, this.worker, ep.field);
        apiKey = v;
      }
      c = new OpenAI({ baseURL: ep.baseURL, apiKey, maxRetries: 0, timeout: timeoutMs, fetch: modelFetch(this.env) });
      this.clients.set(key, c);
      if (this.clients.size > MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
    }
    return c;
  }
}

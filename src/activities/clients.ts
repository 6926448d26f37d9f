import OpenAI from 'openai';

const clients = new Map<string, OpenAI>();

/** Thrown when the environment variable that a config names for an API key is not set on the worker. */
export class MissingKeyError extends Error {}

/**
 * The openai client for an endpoint, cached per process. Temporal owns retries, so the client never retries,
 * and its timeout stays below the activity's.
 */
export function clientFor(baseURL: string, apiKeyEnv: string | undefined, timeoutMs: number): OpenAI {
  const key = `${baseURL}\u0000${apiKeyEnv ?? ''}\u0000${timeoutMs}`;
  let c = clients.get(key);
  if (!c) {
    let apiKey = 'not-needed';
    if (apiKeyEnv) {
      const v = process.env[apiKeyEnv];
      if (!v) throw new MissingKeyError(`environment variable ${apiKeyEnv} (apiKeyEnv for ${baseURL}) is not set on this worker; export it before starting the worker`);
      apiKey = v;
    }
    c = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: timeoutMs });
    clients.set(key, c);
    // A long-lived worker may meet many endpoints (a new simulated server per benchmark run): keep the newest.
    if (clients.size > 32) clients.delete(clients.keys().next().value!);
  }
  return c;
}

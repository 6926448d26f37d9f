import { request } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { probeDataConverter } from '../codec';
import { temporalSettings } from '../workers/connection';

// The web UI of the server this process talks to, found by connectClient: TEMPORAL_UI_URL, or a local dev server's
// UI on its frontend port + 1000 (the dev server's own default, and what `npm run temporal` uses).
let uiBase: string | undefined;
let uiAddress = 'localhost:7233';

function answers(url: string, timeoutMs = 400): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Finds the web UI that belongs to a Temporal frontend address, if one can be known from here. */
export async function discoverUi(address: string): Promise<string | undefined> {
  if (process.env.TEMPORAL_UI_URL) return process.env.TEMPORAL_UI_URL.replace(/\/+$/, '');
  const [host, portText] = address.split(':') as [string, string | undefined];
  if (!['localhost', '127.0.0.1', '::1', '[::1]'].includes(host)) return undefined;
  const port = Number(portText ?? 7233);
  const base = `http://${host === '::1' ? '[::1]' : host}:${port + 1000}`;
  return (await answers(base)) ? base : undefined;
}

/**
 * A Temporal client from the standard environment settings, with the payload codec when THOUGHT_PROBE_CODEC_KEYS is
 * set; a clear error when the server is not there.
 */
export async function connectClient(): Promise<Client> {
  const s = temporalSettings();
  // Parsed before connecting: a bad key list is bad input (exit 2), whatever the server's state.
  const dataConverter = probeDataConverter();
  let client: Client;
  try {
    const connection = await Connection.connect({ ...(s.connectionOptions as object), connectTimeout: '5s' } as never);
    client = new Client({ connection, namespace: s.namespace, dataConverter });
  } catch (e) {
    throw new Error(`cannot reach Temporal at ${String(s.connectionOptions.address)} (${(e as Error).message}); start it with \`npm run temporal\` or set TEMPORAL_ADDRESS`);
  }
  uiAddress = String(s.connectionOptions.address);
  uiBase = await discoverUi(uiAddress);
  return client;
}

/**
 * The web UI link of a workflow on the server connectClient reached, or where to find it when that server's UI
 * cannot be known from here (a remote cluster without TEMPORAL_UI_URL).
 */
export function uiLink(namespace: string, workflowId: string): string {
  if (uiBase === undefined) {
    return `no web UI known for ${uiAddress}: open your cluster's UI at namespace ${namespace}, workflow ${workflowId} (set TEMPORAL_UI_URL to get a link)`;
  }
  return `${uiBase}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

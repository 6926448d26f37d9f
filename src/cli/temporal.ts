import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../workers/connection';

/** A Temporal client from the standard environment settings; a clear error when the server is not there. */
export async function connectClient(): Promise<Client> {
  const s = temporalSettings();
  try {
    const connection = await Connection.connect({ ...(s.connectionOptions as object), connectTimeout: '5s' } as never);
    return new Client({ connection, namespace: s.namespace });
  } catch (e) {
    throw new Error(`cannot reach Temporal at ${String(s.connectionOptions.address)} (${(e as Error).message}); start it with \`npm run temporal\` or set TEMPORAL_ADDRESS`);
  }
}

/** The web UI link of a workflow on the local dev server. */
export function uiLink(namespace: string, workflowId: string): string {
  const base = process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233';
  return `${base}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

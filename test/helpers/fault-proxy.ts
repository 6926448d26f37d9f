import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that passed through the recording proxy. */
export interface ProxiedRequest {
  /** When the request's body had fully arrived (ms since the epoch). */
  at: number;
  model: string;
  /** Hash of the request body: a retry of the same request has the same body. */
  bodyHash: string;
  /** The upstream status, or 0 while unanswered, -1 when the upstream connection failed. */
  status: number;
}

/** A pass-through HTTP proxy in front of a server, keeping the time, model and status of every request. */
export interface RecordingProxy {
  /** Base URL to use in place of the upstream's (same path, e.g. `/v1`). */
  url: string;
  log: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a recording proxy in front of `upstreamUrl` (an http base URL such as the sim's). Bodies, status
 * codes, headers (Retry-After) and streams pass through unchanged; a dropped upstream connection drops the
 * client's. Lets a test time retries without changing the server under test.
 */
export async function startRecordingProxy(upstreamUrl: string): Promise<RecordingProxy> {
  const up = new URL(upstreamUrl);
  const log: ProxiedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      let model = '';
      try {
        model = String((JSON.parse(body.toString('utf8') || '{}') as { model?: unknown }).model ?? '');
      } catch {
        // Not JSON: recorded with no model.
      }
      const entry: ProxiedRequest = { at: Date.now(), model, bodyHash: createHash('sha256').update(body).digest('hex'), status: 0 };
      log.push(entry);
      const upstream = request(
        { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
        (ur) => {
          entry.status = ur.statusCode ?? 0;
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
          ur.on('aborted', () => res.destroy());
          ur.on('error', () => res.destroy());
        },
      );
      upstream.on('error', () => {
        entry.status = -1;
        res.destroy();
      });
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${up.pathname.replace(/\/+$/, '')}`,
    log,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

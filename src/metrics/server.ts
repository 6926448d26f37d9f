import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A running metrics server. */
export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => ((res.statusCode ?? 500) < 400 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
  });
}

/**
 * Serves `GET /metrics` in Prometheus text: the SDK runtime's own metrics (scraped from its exporter on a private
 * loopback port, when given) followed by ours.
 */
export async function startMetricsServer(opts: { port: number; host?: string; registry: Registry; runtimeMetricsUrl?: string }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    void (async () => {
      // The SDK's part may be missing for a moment (its exporter starting): ours is served regardless.
      const runtime = opts.runtimeMetricsUrl ? await fetchText(opts.runtimeMetricsUrl).catch((e: Error) => `# runtime metrics unavailable: ${e.message}\n`) : '';
      const ours = await opts.registry.metrics();
      res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(`${runtime.trimEnd()}\n${ours}`);
    })().catch((e: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${e.message}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/metrics`, port, close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}

/** A free loopback port for the SDK runtime's exporter (taken and released at once; the runtime binds it next). */
export async function freeLoopbackPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import type { EncryptionCodec } from './codec';

/** A payload as Temporal's codec-server protocol carries it: proto JSON, bytes in base64. */
interface JSONPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

/** Options of the codec server. */
export interface CodecServerOptions {
  codec: EncryptionCodec;
  port: number;
  host?: string;
  /** Origins the web UI is served from that may call this server (CORS); `*` allows any. */
  corsOrigins?: string[];
  /** Where to report requests that failed (never a payload or a key). */
  log?: (line: string) => void;
}

/** A running codec server. */
export interface CodecServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

function fromJSON(p: JSONPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJSON(p: Payload): JSONPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function cors(req: IncomingMessage, res: ServerResponse, origins: string[]): void {
  const origin = req.headers.origin;
  if (origins.includes('*')) res.setHeader('Access-Control-Allow-Origin', '*');
  else if (origin && origins.includes(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
  }
  res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
  // The UI sends the namespace and, with auth on, a bearer token; Temporal's CLI sends the same.
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
  res.setHeader('Access-Control-Max-Age', '600');
}

/**
 * Temporal's codec-server protocol: `POST …/encode` and `POST …/decode` with `{payloads: [...]}` in proto JSON
 * (any path prefix, so `http://host:port/{namespace}` works as an endpoint too), and CORS for the web UI.
 */
export async function startCodecServer(opts: CodecServerOptions): Promise<CodecServer> {
  const origins = opts.corsOrigins?.length ? opts.corsOrigins : ['*'];
  const server: Server = createServer((req, res) => {
    cors(req, res, origins);
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const op = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (req.method !== 'POST' || !op) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('POST /encode or /decode\n');
      return;
    }
    readBody(req)
      .then((body) => {
        const parsed = JSON.parse(body) as { payloads?: JSONPayload[] };
        if (!Array.isArray(parsed.payloads)) throw new SyntaxError('body must be {"payloads": [...]}');
        const payloads = parsed.payloads.map(fromJSON).map((p) => (op === 'encode' ? opts.codec.encodeOne(p) : opts.codec.decodeOne(p)));
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ payloads: payloads.map(toJSON) }));
      })
      .catch((e: Error) => {
        const status = e instanceof SyntaxError ? 400 : e.name === 'CodecKeyMissingError' ? 403 : 500;
        opts.log?.(`codec-server: ${op} failed: ${e.message}`);
        res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`${e.message}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

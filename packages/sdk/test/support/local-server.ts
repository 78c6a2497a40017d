/**
 * A real node:http server for transport tests. Each request is recorded with its full body and
 * then handed to the test's handler, which may answer, stall, or drop the connection on purpose.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: Recorded, res: ServerResponse, index: number, raw: IncomingMessage) => void | Promise<void>;

export interface LocalServer {
  readonly url: string;
  readonly requests: Recorded[];
  close(): Promise<void>;
}

export interface LocalServerOptions {
  /** Hand the request over before reading its body (the handler reads it). */
  rawBody?: boolean;
}

export async function startLocalServer(handler: Handler, opts: LocalServerOptions = {}): Promise<LocalServer> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const full = new URL(req.url ?? '/', 'http://x');
    const rec: Recorded = {
      method: req.method ?? '',
      url: req.url ?? '',
      path: full.pathname,
      query: full.searchParams,
      headers: req.headers,
      body: Buffer.alloc(0),
    };
    const index = requests.push(rec) - 1;
    const run = (): void => {
      Promise.resolve(handler(rec, res, index, req)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(599).end(String(err));
      });
    };
    if (opts.rawBody) {
      run();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      rec.body = Buffer.concat(chunks);
      run();
    });
    req.on('error', () => {
      /* the client went away; nothing to answer */
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON response. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** Parses a recorded multipart body with the platform's own parser (not ours). */
export async function parseForm(rec: Recorded): Promise<FormData> {
  const type = String(rec.headers['content-type']);
  return new Response(new Uint8Array(rec.body), { headers: { 'content-type': type } }).formData();
}

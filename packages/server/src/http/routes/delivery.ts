import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_HELP } from '../../errors/index.js';
import type { DeliveryInput } from '../../services/delivery-service.js';
import type { RouteDeps } from '../context.js';

/** Parses a single `bytes=` range; undefined for none or anything we do not serve as a range. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** Client hints for w-auto / dpr-auto: `Sec-CH-Width` / `Sec-CH-DPR`, or their older names. */
function clientHints(headers: IncomingHttpHeaders): { width?: number; dpr?: number } | undefined {
  const w = Number(headers['sec-ch-width'] ?? headers.width);
  const d = Number(headers['sec-ch-dpr'] ?? headers.dpr);
  if (!(w > 0) && !(d > 0)) return undefined;
  const out: { width?: number; dpr?: number } = {};
  if (w > 0) out.width = Math.round(w);
  if (d > 0) out.dpr = d;
  return out;
}

/**
 * Every URL endpoint: <public URL>/<imagekit id>/[<urlPrefix>/][tr:…/]<path>[?tr=…]. The service
 * answers with headers and a body to open; this route does HTTP: 304, ranges, HEAD, usage.
 */
export function deliveryRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      // Every delivery request counts, refused ones included; body bytes count when they are sent.
      deps.usage.recordRequest();
      const raw = req.raw.url ?? req.url;
      const q = raw.indexOf('?');
      const headers = req.headers;
      const input: DeliveryInput = {
        rawPath: q === -1 ? raw : raw.slice(0, q),
        rawQuery: q === -1 ? '' : raw.slice(q + 1),
        accept: headers.accept,
        host: headers.host,
      };
      const hints = clientHints(headers);
      if (hints) input.clientHints = hints;
      const res = await deps.delivery.deliver(input);
      reply.header('content-type', res.mime);
      reply.header('etag', res.etag);
      reply.header('accept-ranges', 'bytes');
      reply.header('cache-control', res.cacheControl);
      if (res.lastModified) reply.header('last-modified', new Date(res.lastModified).toUTCString());
      if (res.vary) reply.header('vary', res.vary);
      if (res.cache) reply.header('x-tessera-cache', res.cache);
      if (res.headers) for (const [k, v] of Object.entries(res.headers)) reply.header(k, v);
      const inm = headers['if-none-match'];
      if (inm && inm.split(',').some((t) => t.trim() === res.etag || t.trim() === '*')) return reply.status(304).send();
      const range = parseRange(headers.range, res.size);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${res.size}`);
        // content-type was set to the file's; the error body is JSON.
        reply.type('application/json; charset=utf-8');
        return reply.status(416).send({ message: 'The requested range is outside the file.', help: DEFAULT_HELP });
      }
      if (range) {
        const length = range.end - range.start + 1;
        reply.status(206);
        reply.header('content-range', `bytes ${range.start}-${range.end}/${res.size}`);
        reply.header('content-length', String(length));
        if (req.method === 'HEAD') return reply.send();
        const body = await res.open(range);
        deps.usage.recordDelivery(length);
        return reply.send(body);
      }
      reply.header('content-length', String(res.size));
      if (req.method === 'HEAD') return reply.send();
      const body = res.data ?? (await res.open());
      deps.usage.recordDelivery(res.size);
      return reply.send(body);
    };
    const prefix = `/${deps.config.imagekitId}/*`;
    // HEAD is declared rather than derived from GET: Fastify's derived HEAD route overwrites
    // content-length with 0 when the handler sends no body.
    app.route({ method: ['GET', 'HEAD'], url: prefix, handler });
  };
}

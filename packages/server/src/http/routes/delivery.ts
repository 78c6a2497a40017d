import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_HELP } from '../../errors/index.js';
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

/** The default URL endpoint: <public URL>/<imagekit id>/<file path>. */
export function deliveryRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    const handler = async (req: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
      const query = req.query as Record<string, string | undefined>;
      const { asset, etag } = await deps.delivery.resolve(`/${req.params['*']}`, query);
      reply.header('content-type', asset.mime);
      reply.header('etag', etag);
      reply.header('accept-ranges', 'bytes');
      reply.header('last-modified', new Date(asset.updatedAt).toUTCString());
      reply.header('cache-control', asset.isPrivate ? 'private, max-age=0' : 'public, max-age=31536000');
      const inm = req.headers['if-none-match'];
      if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return reply.status(304).send();
      const range = parseRange(req.headers.range, asset.size);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${asset.size}`);
        // content-type was set to the asset's; the error body is JSON.
        reply.type('application/json; charset=utf-8');
        return reply.status(416).send({ message: 'The requested range is outside the file.', help: DEFAULT_HELP });
      }
      if (range) {
        reply.status(206);
        reply.header('content-range', `bytes ${range.start}-${range.end}/${asset.size}`);
        reply.header('content-length', String(range.end - range.start + 1));
        if (req.method === 'HEAD') return reply.send();
        return reply.send(await deps.delivery.open(asset, range));
      }
      reply.header('content-length', String(asset.size));
      if (req.method === 'HEAD') return reply.send();
      return reply.send(await deps.delivery.open(asset));
    };
    const prefix = `/${deps.config.imagekitId}/*`;
    // HEAD is declared rather than derived from GET: Fastify's derived HEAD route overwrites
    // content-length with 0 when the handler sends no body.
    app.route({ method: ['GET', 'HEAD'], url: prefix, handler });
  };
}

import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';
import { metadataOf } from '../presenters/files.js';

/** File metadata (management API; auth is applied by the enclosing scope). */
export function metadataRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    app.get<{ Params: { fileId: string } }>('/v1/files/:fileId/metadata', async (req) => {
      return metadataOf(await deps.metadata.ofFile(req.params.fileId));
    });

    const byUrl = async (req: { query: unknown }) => {
      const query = (req.query ?? {}) as Record<string, unknown>;
      const found = await deps.metadata.ofUrl(query.url);
      return 'asset' in found ? metadataOf(found.asset) : found.rendered;
    };
    app.get('/v1/metadata', byUrl);
    // The older path of the same API, still used by older SDKs.
    app.get('/v1/files/metadata', byUrl);
  };
}

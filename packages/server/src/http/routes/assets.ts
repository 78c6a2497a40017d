import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';
import { listedFileDetailsJson, versionDetails } from '../presenters/files.js';
import { folderDetails } from '../presenters/folders.js';

/** List and search assets (management API; auth is applied by the enclosing scope). */
export function assetsRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/v1/files', async (req, reply) => {
      const items = await deps.list.list(req.query);
      // The body is written as text: files arrive with their JSON fields as stored JSON text.
      const body = items.map((it) =>
        it.type === 'file'
          ? listedFileDetailsJson(deps.urls, it.file)
          : JSON.stringify(it.type === 'folder' ? folderDetails(it.folder) : versionDetails(deps.urls, it.file, it.version)),
      );
      return reply.type('application/json; charset=utf-8').send(`[${body.join(',')}]`);
    });
  };
}

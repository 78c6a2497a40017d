import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';
import { fileDetails, versionDetails } from '../presenters/files.js';
import { folderDetails } from '../presenters/folders.js';

/** List and search assets (management API; auth is applied by the enclosing scope). */
export function assetsRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/v1/files', async (req) => {
      const items = await deps.list.list(req.query);
      return items.map((it) =>
        it.type === 'folder' ? folderDetails(it.folder) : it.type === 'file' ? fileDetails(deps.urls, it.file) : versionDetails(deps.urls, it.file, it.version),
      );
    });
  };
}

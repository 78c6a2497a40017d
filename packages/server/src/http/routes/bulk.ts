import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';

export function bulkRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    app.post('/v1/files/batch/deleteByFileIds', async (req) => deps.bulk.delete(req.body));
    app.post('/v1/files/addTags', async (req) => deps.bulk.addTags(req.body));
    app.post('/v1/files/removeTags', async (req) => deps.bulk.removeTags(req.body));
    app.post('/v1/files/removeAITags', async (req) => deps.bulk.removeAITags(req.body));
  };
}

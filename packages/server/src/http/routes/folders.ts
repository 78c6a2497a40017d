import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';

/** Create and delete folders (management API; auth is applied by the enclosing scope). */
export function foldersRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    // ImageKit's older docs and SDKs call /v1/folder/ with the trailing slash.
    for (const url of ['/v1/folder', '/v1/folder/']) {
      app.post(url, async (req, reply) => {
        await deps.folders.create(req.body);
        return reply.status(201).send({});
      });
      app.delete(url, async (req, reply) => {
        await deps.folders.delete(req.body);
        return reply.status(204).send();
      });
    }
  };
}

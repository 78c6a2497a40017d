import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';

interface IdParams {
  id: string;
}

/** /v1/saved-extensions (management API; auth is applied by the enclosing scope). */
export function savedExtensionsRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/v1/saved-extensions', async () => deps.savedExtensions.list());

    app.post('/v1/saved-extensions', async (req, reply) => {
      return reply.status(201).send(await deps.savedExtensions.create(req.body));
    });

    app.get<{ Params: IdParams }>('/v1/saved-extensions/:id', async (req) => deps.savedExtensions.get(req.params.id));

    app.patch<{ Params: IdParams }>('/v1/saved-extensions/:id', async (req) => deps.savedExtensions.update(req.params.id, req.body));

    app.delete<{ Params: IdParams }>('/v1/saved-extensions/:id', async (req, reply) => {
      await deps.savedExtensions.delete(req.params.id);
      return reply.status(204).send();
    });
  };
}

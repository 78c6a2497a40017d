import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';

/** Cache purges (management API; auth is applied by the enclosing scope). The status read is in files.ts. */
export function cacheRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    app.post('/v1/files/purge', async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const requestId = await deps.delivery.purge(typeof body === 'object' && body !== null ? body.url : undefined);
      return reply.status(201).send({ requestId });
    });
  };
}

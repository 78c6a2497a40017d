import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';
import { originResponse, urlEndpointResponse } from '../presenters/accounts.js';

interface IdParams {
  id: string;
}

/** Origins, URL endpoints and usage (management API; auth is applied by the enclosing scope). */
export function accountsRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    const accounts = deps.accounts;

    app.get('/v1/accounts/origins', async () => (await accounts.listOrigins()).map(originResponse));

    app.post('/v1/accounts/origins', async (req, reply) => {
      return reply.status(201).send(originResponse(await accounts.createOrigin(req.body)));
    });

    app.get<{ Params: IdParams }>('/v1/accounts/origins/:id', async (req) => {
      return originResponse(await accounts.getOrigin(req.params.id));
    });

    app.put<{ Params: IdParams }>('/v1/accounts/origins/:id', async (req) => {
      return originResponse(await accounts.updateOrigin(req.params.id, req.body));
    });

    app.delete<{ Params: IdParams }>('/v1/accounts/origins/:id', async (req, reply) => {
      await accounts.deleteOrigin(req.params.id);
      return reply.status(204).send();
    });

    app.get('/v1/accounts/url-endpoints', async () => (await accounts.listEndpoints()).map(urlEndpointResponse));

    app.post('/v1/accounts/url-endpoints', async (req, reply) => {
      return reply.status(201).send(urlEndpointResponse(await accounts.createEndpoint(req.body)));
    });

    app.get<{ Params: IdParams }>('/v1/accounts/url-endpoints/:id', async (req) => {
      return urlEndpointResponse(await accounts.getEndpoint(req.params.id));
    });

    app.put<{ Params: IdParams }>('/v1/accounts/url-endpoints/:id', async (req) => {
      return urlEndpointResponse(await accounts.updateEndpoint(req.params.id, req.body));
    });

    app.delete<{ Params: IdParams }>('/v1/accounts/url-endpoints/:id', async (req, reply) => {
      await accounts.deleteEndpoint(req.params.id);
      return reply.status(204).send();
    });

    app.get<{ Querystring: { startDate?: string; endDate?: string } }>('/v1/accounts/usage', async (req) => {
      return deps.usage.report(req.query);
    });
  };
}

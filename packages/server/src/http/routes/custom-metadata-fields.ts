import type { FastifyInstance } from 'fastify';
import type { CustomMetadataService, ListQuery } from '../../services/custom-metadata-service.js';

interface FieldParams {
  id: string;
}

/** Custom metadata fields (management API; auth is applied by the enclosing scope). */
export function customMetadataFieldsRoutes(deps: { customFields: CustomMetadataService }) {
  return async (app: FastifyInstance) => {
    app.post('/v1/customMetadataFields', async (req, reply) => {
      return reply.status(201).send(await deps.customFields.create(req.body));
    });

    app.get<{ Querystring: ListQuery }>('/v1/customMetadataFields', async (req) => {
      return deps.customFields.list({ includeDeleted: req.query.includeDeleted, folderPath: req.query.folderPath });
    });

    app.patch<{ Params: FieldParams }>('/v1/customMetadataFields/:id', async (req) => {
      return deps.customFields.update(req.params.id, req.body);
    });

    app.delete<{ Params: FieldParams }>('/v1/customMetadataFields/:id', async (req, reply) => {
      await deps.customFields.delete(req.params.id);
      return reply.status(204).send();
    });
  };
}

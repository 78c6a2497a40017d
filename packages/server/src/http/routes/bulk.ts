import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteDeps } from '../context.js';
import { fileDetails } from '../presenters/files.js';

export function bulkRoutes(deps: RouteDeps) {
  /** file.updated for each file of a bulk change that committed; a failure here never fails the request. */
  const updated = async (req: FastifyRequest, res: { successfullyUpdatedFileIds: string[] }) => {
    try {
      for (const f of await deps.bulk.current(res.successfullyUpdatedFileIds)) await deps.webhooks.emit('file.updated', fileDetails(deps.urls, f));
    } catch (err) {
      req.log.error({ err }, 'file events of a bulk change not queued');
    }
    return res;
  };

  return async (app: FastifyInstance) => {
    app.post('/v1/files/batch/deleteByFileIds', async (req) => {
      const res = await deps.bulk.delete(req.body);
      for (const fileId of res.successfullyDeletedFileIds) await deps.webhooks.emit('file.deleted', { fileId });
      return res;
    });
    app.post('/v1/files/addTags', async (req) => updated(req, await deps.bulk.addTags(req.body)));
    app.post('/v1/files/removeTags', async (req) => updated(req, await deps.bulk.removeTags(req.body)));
    app.post('/v1/files/removeAITags', async (req) => updated(req, await deps.bulk.removeAITags(req.body)));
  };
}

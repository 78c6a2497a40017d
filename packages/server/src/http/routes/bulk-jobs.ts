import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';

/** Folder copy / move / rename as background jobs, and their status. */
export function bulkJobsRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    app.post('/v1/bulkJobs/copyFolder', async (req) => deps.folders.copy(req.body));
    app.post('/v1/bulkJobs/moveFolder', async (req) => deps.folders.move(req.body));
    // The spec answers a rename with 202 (copy and move with 200).
    app.post('/v1/bulkJobs/renameFolder', async (req, reply) => reply.status(202).send(await deps.folders.rename(req.body)));
    app.get<{ Params: { jobId: string } }>('/v1/bulkJobs/:jobId', async (req) => deps.folders.job(req.params.jobId));
  };
}

import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../context.js';
import { fileDetails, versionDetails } from '../presenters/files.js';

interface FileParams {
  fileId: string;
}
interface VersionParams extends FileParams {
  versionId: string;
}

/** Files and their versions (management API; auth is applied by the enclosing scope). */
export function filesRoutes(deps: RouteDeps) {
  return async (app: FastifyInstance) => {
    app.get<{ Params: FileParams }>('/v1/files/:fileId/details', async (req) => {
      return fileDetails(deps.urls, await deps.files.get(req.params.fileId));
    });

    app.patch<{ Params: FileParams }>('/v1/files/:fileId/details', async (req) => {
      const { file, extensions } = await deps.files.update(req.params.fileId, req.body);
      const out = fileDetails(deps.urls, file);
      // Extensions are validated here and run by the extensions worker once it exists; until then
      // they are reported as failed rather than pretending to be pending.
      if (extensions && extensions.length > 0) {
        out.extensionStatus = Object.fromEntries(extensions.map((e) => [e.name, 'failed']));
      }
      return out;
    });

    app.delete<{ Params: FileParams }>('/v1/files/:fileId', async (req, reply) => {
      await deps.files.delete(req.params.fileId);
      return reply.status(204).send();
    });

    app.post('/v1/files/copy', async (req, reply) => {
      await deps.files.copy(req.body);
      return reply.status(204).send();
    });

    app.post('/v1/files/move', async (req, reply) => {
      await deps.files.move(req.body);
      return reply.status(204).send();
    });

    app.put('/v1/files/rename', async (req) => {
      const { purgeRequested, file } = await deps.files.rename(req.body);
      if (!purgeRequested) return {};
      const purgeRequestId = await deps.delivery.purgeOldPath(file);
      return { purgeRequestId };
    });

    app.get<{ Params: FileParams }>('/v1/files/:fileId/versions', async (req) => {
      const { file, versions } = await deps.files.listVersions(req.params.fileId);
      return versions.map((v) => versionDetails(deps.urls, file, v));
    });

    app.get<{ Params: VersionParams }>('/v1/files/:fileId/versions/:versionId', async (req) => {
      const { file, version } = await deps.files.getVersion(req.params.fileId, req.params.versionId);
      return versionDetails(deps.urls, file, version);
    });

    app.delete<{ Params: VersionParams }>('/v1/files/:fileId/versions/:versionId', async (req, reply) => {
      await deps.files.deleteVersion(req.params.fileId, req.params.versionId);
      return reply.status(204).send();
    });

    app.put<{ Params: VersionParams }>('/v1/files/:fileId/versions/:versionId/restore', async (req) => {
      return fileDetails(deps.urls, await deps.files.restoreVersion(req.params.fileId, req.params.versionId));
    });

    app.get<{ Params: { requestId: string } }>('/v1/files/purge/:requestId', async (req) => {
      return deps.delivery.purgeStatus(req.params.requestId);
    });
  };
}

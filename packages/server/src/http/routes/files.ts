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
      const body = req.body as { extensions?: unknown; webhookUrl?: unknown } | null;
      // Checked (saved extensions resolved) before the update is written; queued after it.
      const extensions = await deps.extensions.prepare(body?.extensions);
      const { file } = await deps.files.update(req.params.fileId, req.body);
      const out = fileDetails(deps.urls, file);
      await deps.webhooks.emit('file.updated', out);
      const webhookUrl = typeof body?.webhookUrl === 'string' ? body.webhookUrl : null;
      const extensionStatus = await deps.extensions.schedule(file, extensions, webhookUrl);
      return extensionStatus ? { ...out, extensionStatus } : out;
    });

    app.delete<{ Params: FileParams }>('/v1/files/:fileId', async (req, reply) => {
      await deps.files.delete(req.params.fileId);
      await deps.webhooks.emit('file.deleted', { fileId: req.params.fileId });
      return reply.status(204).send();
    });

    app.post('/v1/files/copy', async (req, reply) => {
      const { file, created } = await deps.files.copy(req.body);
      await deps.webhooks.emit(created ? 'file.created' : 'file-version.created', fileDetails(deps.urls, file));
      return reply.status(204).send();
    });

    app.post('/v1/files/move', async (req, reply) => {
      const { file, mergedFileId } = await deps.files.move(req.body);
      if (mergedFileId) {
        // Merged into a namesake: the source file is gone, its versions are the namesake's newest.
        await deps.webhooks.emit('file.deleted', { fileId: mergedFileId });
        await deps.webhooks.emit('file-version.created', fileDetails(deps.urls, file));
      } else {
        await deps.webhooks.emit('file.updated', fileDetails(deps.urls, file));
      }
      return reply.status(204).send();
    });

    app.put('/v1/files/rename', async (req) => {
      const { purgeRequested, previousFilePath, file } = await deps.files.rename(req.body);
      await deps.webhooks.emit('file.updated', fileDetails(deps.urls, file));
      if (!purgeRequested) return {};
      const purgeRequestId = await deps.delivery.purgeOldPath(previousFilePath);
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
      await deps.webhooks.emit('file-version.deleted', { fileId: req.params.fileId, versionId: req.params.versionId });
      return reply.status(204).send();
    });

    app.put<{ Params: VersionParams }>('/v1/files/:fileId/versions/:versionId/restore', async (req) => {
      const out = fileDetails(deps.urls, await deps.files.restoreVersion(req.params.fileId, req.params.versionId));
      await deps.webhooks.emit('file.updated', out);
      return out;
    });

    app.get<{ Params: { requestId: string } }>('/v1/files/purge/:requestId', async (req) => {
      return deps.delivery.purgeStatus(req.params.requestId);
    });
  };
}

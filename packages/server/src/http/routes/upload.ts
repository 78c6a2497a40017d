import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, payloadTooLarge } from '../../errors/index.js';
import { canonicalFieldName, type RawUploadFields } from '../../services/upload-params.js';
import type { UploadSource } from '../../services/upload-service.js';
import type { SpooledFile } from '../../util/spool.js';
import { checkPrivateKey } from '../plugins/auth.js';
import { enforceRateLimit, type RouteDeps } from '../context.js';
import { fileDetails, uploadResponse } from '../presenters/files.js';

/** Largest text field accepted (a base64 `file` lives here, so it follows the upload limit). */
function fieldLimit(maxUploadBytes: number): number {
  return Math.min(Math.ceil(maxUploadBytes * 1.34) + 1024, 512 * 1024 * 1024);
}

/**
 * POST /api/v1/files/upload and /api/v2/files/upload. The file part is streamed to a spool file
 * as it arrives; fields may come before or after it, so auth that lives in the fields (client-side
 * signature, JWT) is checked once the whole form is read, and the spool file is removed on any failure.
 */
export function uploadRoutes(deps: RouteDeps) {
  const max = deps.config.maxUploadBytes;
  const tooLarge = () => payloadTooLarge(`Your request contains invalid file parameter. The file size exceeds limits (${max} bytes).`);

  const handle = (version: 1 | 2) => async (req: FastifyRequest) => {
    const hasPrivateKey = checkPrivateKey(req, deps.config.privateKey);
    await enforceRateLimit(deps, req, hasPrivateKey ? 'private' : 'client-side');
    if (!req.isMultipart()) {
      throw badRequest('Upload requests must be multipart/form-data with a "file" field and a "fileName" field.');
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    // The body may carry the file as binary (up to max) or as base64 text (up to fieldLimit, capped at 512 MiB),
    // so only a body larger than both (plus room for the other fields) is surely too large.
    if (Number.isFinite(declared) && declared > Math.max(max, fieldLimit(max)) + 1024 * 1024) throw tooLarge();

    const fields: RawUploadFields = {};
    let spooled: SpooledFile | null = null;
    let clientFileName: string | null = null;
    try {
      const parts = req.parts({ limits: { fileSize: max + 1, files: 1, fields: 100, fieldSize: fieldLimit(max), parts: 101 } });
      for await (const part of parts) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file') {
            part.file.resume();
            throw badRequest(`Your request contains an unexpected file field "${part.fieldname}"; send the bytes as "file".`);
          }
          spooled = await deps.spool.write(part.file, (n) => {
            if (n > max) throw tooLarge();
          });
          if (part.file.truncated) throw tooLarge();
          clientFileName = part.filename || null;
        } else {
          if (part.valueTruncated) {
            if (part.fieldname === 'file') throw tooLarge();
            throw badRequest(`Your request contains a ${part.fieldname} field that is too long.`);
          }
          const name = canonicalFieldName(part.fieldname);
          (fields[name] ??= []).push(String(part.value));
        }
      }
      const textFile = fields.file;
      if (spooled && textFile) throw badRequest('Your request contains the file parameter twice (as bytes and as text).');
      if (!spooled && (!textFile || textFile.length === 0)) throw badRequest('Your request is missing file parameter.');
      if (textFile && textFile.length > 1) throw badRequest('Your request contains the file parameter more than once.');

      await deps.uploadAuth.authorize(version, fields, hasPrivateKey);
      const params = deps.upload.parse(fields);
      // Pre and post transformations parse (and unsupported types are refused) before anything is stored.
      const transforms = deps.uploadTransforms.prepare(params.transformation);
      const transformCtx = { requestId: req.id, webhookUrl: params.webhookUrl ?? null };
      // Saved-extension references resolve here, so an unknown one is refused before anything is stored.
      const extensions = await deps.extensions.prepare(params.extensions);
      const source: UploadSource = spooled
        ? { kind: 'spooled', file: spooled, clientFileName }
        : { kind: 'text', value: textFile![0]! };
      spooled = null; // the upload service owns it from here and removes it when done
      const result = await deps.upload.upload(params, source, {
        beforeStore: (staged) => deps.uploadTransforms.beforeStore(transforms, staged, params, transformCtx),
      });
      const extensionStatus = await deps.extensions.schedule(result.file, extensions, params.webhookUrl);
      // Version numbers never repeat, so 1 means a new file and anything else a new version of one.
      await deps.webhooks.emit(result.file.versionNumber === 1 ? 'file.created' : 'file-version.created', fileDetails(deps.urls, result.file));
      await deps.uploadTransforms.afterUpload(result.file, result.probe, transforms, transformCtx);
      return uploadResponse(deps.urls, result.file, result.probe, params.responseFields, extensionStatus);
    } finally {
      if (spooled) await deps.spool.remove((spooled as SpooledFile).path);
    }
  };

  return async (app: FastifyInstance) => {
    app.post('/api/v1/files/upload', handle(1));
    app.post('/api/v2/files/upload', handle(2));
  };
}

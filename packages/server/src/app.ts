import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { LocalBlobStore } from './adapters/blob/local/index.js';
import { openSqliteStore } from './adapters/db/sqlite/index.js';
import { SharpMediaProbe } from './adapters/media/probe.js';
import { fetchUrlToFile } from './adapters/net/safe-fetch.js';
import { MemoryRateLimiter } from './adapters/ratelimit/memory.js';
import type { Config } from './config/index.js';
import { enforceRateLimit, type RouteDeps } from './http/context.js';
import { requirePrivateKey } from './http/plugins/auth.js';
import { onFrameworkError, registerErrorHandling } from './http/plugins/errors.js';
import { bulkRoutes } from './http/routes/bulk.js';
import { deliveryRoutes } from './http/routes/delivery.js';
import { filesRoutes } from './http/routes/files.js';
import { uploadRoutes } from './http/routes/upload.js';
import type { BlobStore } from './ports/blob-store.js';
import type { MetadataStore } from './ports/metadata-store.js';
import { BulkService } from './services/bulk-service.js';
import { DeliveryService } from './services/delivery-service.js';
import { FileService } from './services/file-service.js';
import { Library } from './services/library.js';
import { UploadAuthService } from './services/upload-auth.js';
import { UploadService } from './services/upload-service.js';
import { SpoolDir } from './util/spool.js';

export interface App {
  server: FastifyInstance;
  /** Closes the HTTP server (letting in-flight requests finish), then the stores. */
  close(): Promise<void>;
}

export interface AppOverrides {
  store?: MetadataStore;
  blobs?: BlobStore;
  logger?: boolean;
}

/** The composition root: the only place that knows both services and adapters. Never listens. */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const spool = new SpoolDir(join(config.dataDir, 'tmp'));
  await spool.reset();
  const store = overrides.store ?? (await openSqliteStore(join(config.dataDir, 'tessera.db')));
  let blobs = overrides.blobs;
  if (!blobs) {
    const local = new LocalBlobStore(join(config.dataDir, 'blobs'));
    await local.init();
    blobs = local;
  }

  const library = new Library({ store, blobs });
  const swept = await library.sweepJournal();
  await store.pruneUploadTokens(new Date().toISOString());

  const files = new FileService(library);
  const deps: RouteDeps = {
    config,
    urls: { publicUrl: config.publicUrl, imagekitId: config.imagekitId },
    files,
    bulk: new BulkService(library, files),
    upload: new UploadService(
      library,
      spool,
      new SharpMediaProbe(),
      (url, dest) =>
        fetchUrlToFile(url, dest, {
          allowPrivate: config.allowPrivateUrls,
          headerTimeoutMs: config.urlFetchHeaderTimeoutMs,
          maxBytes: config.maxUploadBytes,
        }),
      config.maxUploadBytes,
    ),
    uploadAuth: new UploadAuthService({ privateKey: config.privateKey, publicKey: config.publicKey }, store),
    delivery: new DeliveryService(library),
    spool,
    rateLimiter: config.rateLimit ? new MemoryRateLimiter(config.rateLimit.limit, config.rateLimit.intervalMs) : null,
    health: () => store.ping(),
  };

  const server = Fastify({
    logger: overrides.logger === false ? false : { level: config.logLevel },
    bodyLimit: 10 * 1024 * 1024,
    genReqId: () => Math.random().toString(36).slice(2, 12) + Date.now().toString(36),
    // Long uploads must not be cut off by the default request timeout.
    requestTimeout: 0,
    return503OnClosing: true,
    frameworkErrors: onFrameworkError,
  });
  if (swept.removed > 0) server.log.info({ removed: swept.removed }, 'removed orphan blobs left by an interrupted write');
  registerErrorHandling(server);
  await server.register(multipart, { throwFileSizeLimit: true });
  // Browsers upload directly with client-side auth, and the media library UI calls the API from
  // its own origin; auth is by key, never by cookie, so any origin may call.
  await server.register(cors, {
    origin: '*',
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    exposedHeaders: ['X-RateLimit-Limit', 'X-RateLimit-Reset', 'X-RateLimit-Interval', 'Retry-After', 'x-request-id', 'ETag', 'Content-Range'],
  });

  server.get('/healthz', async (_req, reply) => {
    try {
      await deps.health();
      return { status: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });

  await server.register(uploadRoutes(deps));
  // Management API: private-key auth and rate limits for every route in this scope.
  await server.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      requirePrivateKey(req, config.privateKey);
      await enforceRateLimit(deps, req, 'private');
    });
    await scope.register(filesRoutes(deps));
    await scope.register(bulkRoutes(deps));
  });
  await server.register(deliveryRoutes(deps));

  return {
    server,
    async close() {
      await server.close();
      await store.close();
    },
  };
}

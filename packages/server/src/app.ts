import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LocalBlobStore } from './adapters/blob/local/index.js';
import { DiskDeliveryCache } from './adapters/cache/disk-cache.js';
import { ClusterCacheBus } from './adapters/cache/cluster-bus.js';
import { InProcessCacheBus } from './adapters/cache/in-process-bus.js';
import { PgCacheBus } from './adapters/cache/pg-bus.js';
import { accountStoreFor } from './adapters/db/account-repo.js';
import { assetSearchFor } from './adapters/db/asset-search.js';
import { customFieldStoreFor } from './adapters/db/custom-field-repo.js';
import { savedExtensionStoreFor, webhookLogFor } from './adapters/db/extension-repos.js';
import { afterWrites, trackChanges, type OtherWriters } from './adapters/db/change-tracking.js';
import { purgeStoreFor } from './adapters/db/purge-repo.js';
import type { KyselyMetadataStore } from './adapters/db/kysely-store.js';
import { openSqliteStore } from './adapters/db/sqlite/index.js';
import { usageStoreFor } from './adapters/db/usage-repo.js';
import { extensionProvidersFrom } from './adapters/extensions/index.js';
import { SharpMediaProbe } from './adapters/media/probe.js';
import { S3OriginFetcher } from './adapters/origins/s3.js';
import { WebOriginFetcher } from './adapters/origins/web.js';
import { DbJobQueue } from './adapters/queue/db-queue.js';
import { fetchUrlToFile } from './adapters/net/safe-fetch.js';
import { SafeWebhookTransport } from './adapters/net/webhook-post.js';
import { ClusterRateLimiter } from './adapters/ratelimit/cluster.js';
import { MemoryRateLimiter } from './adapters/ratelimit/memory.js';
import { pgRateLimiterFor } from './adapters/ratelimit/pg.js';
import type { Config } from './config/index.js';
import { enforceRateLimit, type RouteDeps } from './http/context.js';
import { requirePrivateKey } from './http/plugins/auth.js';
import { onFrameworkError, registerErrorHandling, registerNotFoundHandler } from './http/plugins/errors.js';
import { encodeFilePath, fileDetails, uploadResponse } from './http/presenters/files.js';
import { accountsRoutes } from './http/routes/accounts.js';
import { assetsRoutes } from './http/routes/assets.js';
import { bulkJobsRoutes } from './http/routes/bulk-jobs.js';
import { bulkRoutes } from './http/routes/bulk.js';
import { cacheRoutes } from './http/routes/cache.js';
import { customMetadataFieldsRoutes } from './http/routes/custom-metadata-fields.js';
import { deliveryRoutes } from './http/routes/delivery.js';
import { filesRoutes } from './http/routes/files.js';
import { foldersRoutes } from './http/routes/folders.js';
import { metadataRoutes } from './http/routes/metadata.js';
import { savedExtensionsRoutes } from './http/routes/saved-extensions.js';
import { uploadRoutes } from './http/routes/upload.js';
import type { BlobStore } from './ports/blob-store.js';
import type { ClusterWorker } from './adapters/cluster/ipc.js';
import type { CacheBus } from './ports/cache-bus.js';
import type { DeliveryCache } from './ports/delivery-cache.js';
import type { JobQueue } from './ports/job-queue.js';
import type { MetadataStore } from './ports/metadata-store.js';
import { AccountService } from './services/account-service.js';
import { BulkService } from './services/bulk-service.js';
import { CustomMetadataService } from './services/custom-metadata-service.js';
import { DeliveryEngine } from './services/delivery/engine.js';
import { DeliveryService } from './services/delivery-service.js';
import { ExtensionService } from './services/extension-service.js';
import { FileService } from './services/file-service.js';
import { FolderService } from './services/folder-service.js';
import { Library } from './services/library.js';
import { ListService } from './services/list-service.js';
import { MetadataService } from './services/metadata-service.js';
import { SavedExtensionService } from './services/saved-extension-service.js';
import { UploadAuthService } from './services/upload-auth.js';
import { UploadService } from './services/upload-service.js';
import { UploadTransformService } from './services/upload-transforms.js';
import { UsageService } from './services/usage-service.js';
import { WebhookService, webhookRetryPolicy } from './services/webhook-service.js';
import { SpoolDir } from './util/spool.js';

/**
 * The metadata store the config names: the embedded SQLite file, or a shared PostgreSQL (its
 * driver loaded only then). Migrated at open unless `migrate: false` (`tessera migrate` does it
 * itself to report what it applied).
 */
export async function openStore(
  config: Config,
  opts: { migrate?: boolean; onIdleError?: (err: Error) => void } = {},
): Promise<KyselyMetadataStore> {
  const migrate = opts.migrate ?? true;
  if (config.database.kind === 'postgres') {
    const { openPostgresStore } = await import('./adapters/db/postgres/index.js');
    return openPostgresStore({
      url: config.database.url,
      poolMax: config.database.poolMax,
      migrate,
      ...(opts.onIdleError ? { onIdleError: opts.onIdleError } : {}),
    });
  }
  return openSqliteStore(join(config.dataDir, 'tessera.db'), { migrate });
}

export interface App {
  server: FastifyInstance;
  /** Closes the HTTP server (letting in-flight requests finish), then the stores. */
  close(): Promise<void>;
}

export interface AppOverrides {
  store?: MetadataStore;
  blobs?: BlobStore;
  /** The background job queue; default: the embedded runner over the store's jobs table. */
  jobs?: JobQueue;
  /** The delivery cache; default: the disk cache under <data dir>/cache. */
  deliveryCache?: DeliveryCache;
  /** How purges reach every process; default: in-process only. */
  cacheBus?: CacheBus;
  logger?: boolean;
  /** Set in a worker process of a server run with TESSERA_WORKERS > 1 (see cluster.ts). */
  cluster?: ClusterWorker;
}

/** The blob store the config names: the data dir, or an S3 bucket (its SDK loaded only then). */
async function openBlobs(config: Config): Promise<{ blobs: BlobStore; close: () => void }> {
  if (config.blobs.kind === 's3') {
    // open() checks the bucket answers, failing with one ConfigError line.
    const { S3BlobStore } = await import('./adapters/blob/s3/index.js');
    const s3 = await S3BlobStore.open(config.blobs);
    return { blobs: s3, close: () => s3.close() };
  }
  const local = new LocalBlobStore(join(config.dataDir, 'blobs'));
  await local.init();
  return { blobs: local, close: () => undefined };
}

/**
 * What a server does at start before it serves, done once by the cluster primary before it starts
 * the workers (TESSERA_WORKERS > 1), while none of them touches the data dir yet: migrations, the
 * spool emptied, the blob journal settled (on SQLite without a grace period: no write is in
 * flight), expired upload tokens dropped, and purges left pending by the last run marked done
 * (every worker's cache starts empty).
 */
export async function prepareDataDir(config: Config): Promise<{ orphanBlobsRemoved: number }> {
  await new SpoolDir(join(config.dataDir, 'tmp')).reset();
  // The workers' caches live in cache/worker-<n>: whatever a single process left in cache/ goes.
  await DiskDeliveryCache.discard(join(config.dataDir, 'cache'));
  const store = await openStore(config);
  try {
    const { blobs, close } = await openBlobs(config);
    try {
      // Alone on an SQLite file; on PostgreSQL other nodes' writes may be in flight (the default grace).
      const swept = await new Library({ store, blobs }).sweepJournal();
      await store.pruneUploadTokens(new Date().toISOString());
      await purgeStoreFor(store).completePending(new Date().toISOString());
      return { orphanBlobsRemoved: swept.removed };
    } finally {
      close();
    }
  } finally {
    await store.close();
  }
}

/** The composition root: the only place that knows both services and adapters. Never listens. */
export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  // A cluster worker (TESSERA_WORKERS > 1) shares the data dir with the others: its spool and its
  // delivery cache are its own, its share of the cache and transform limits is 1/count, and what
  // the primary did alone at start (prepareDataDir) is not redone when a worker (re)starts.
  const worker = overrides.cluster;
  const share = (n: number) => (worker ? Math.ceil(n / worker.count) : n);
  const spool = new SpoolDir(join(config.dataDir, 'tmp', ...(worker ? [`worker-${worker.index}`] : [])));
  await spool.reset();
  // Writes are counted so the delivery path can remember path lookups until the library changes;
  // workers sharing the SQLite file also tell each other of their writes.
  const opened = overrides.store ?? (await openStore(config, { onIdleError: (err) => server.log.error({ err }, 'idle database connection failed') }));
  const others: OtherWriters | undefined =
    worker && opened.capabilities.dialect === 'sqlite'
      ? { changes: () => worker.channel.changesElsewhere(), announce: () => worker.channel.announceChange() }
      : undefined;
  const tracked = trackChanges(opened, others);
  const store = tracked.store;
  let blobs = overrides.blobs;
  let closeBlobs = (): void => undefined;
  if (!blobs) ({ blobs, close: closeBlobs } = await openBlobs(config));

  const library = new Library({ store, blobs, ...(worker ? { sharedJournal: true } : {}) });
  const swept = await library.sweepJournal();
  // A shared journal skips entries young enough to belong to another node's write in flight, so
  // it is swept again while running, not only at start (see Library.sweepJournal).
  const journalSweeps = library.journalShared
    ? setInterval(() => {
        library.sweepJournal().then(
          (r) => r.removed > 0 && server.log.info({ removed: r.removed }, 'removed orphan blobs left by an interrupted write'),
          (err: unknown) => server.log.error({ err }, 'blob journal sweep failed'),
        );
      }, 15 * 60_000).unref()
    : undefined;
  if (!worker) await store.pruneUploadTokens(new Date().toISOString());

  const customFields = new CustomMetadataService(customFieldStoreFor(store), () => library.now());
  const files = new FileService(library, customFields);
  const jobs =
    overrides.jobs ??
    DbJobQueue.forStore(store, {
      leaseMs: config.jobs.leaseMs,
      pollMs: config.jobs.pollMs,
      concurrency: config.jobs.concurrency,
      onError: (err, job) => server.log.error({ err, jobId: job?.id, jobType: job?.type }, 'background job error'),
    });
  const folders = new FolderService(library, files, jobs, {
    batchSize: config.jobs.batchSize,
    purge: (folderPath) => deps.delivery.purgeOldFolder(folderPath),
    // The webhook service is built further down; jobs and requests run only after that.
    emitFileEvent: (type, fileId, file, eventId, resend) =>
      webhooks.emit(type, file ? fileDetails({ publicUrl: config.publicUrl, imagekitId: config.imagekitId }, file) : { fileId }, eventId, { resend: resend === true }),
  });
  folders.registerJobs();
  const usage = new UsageService(usageStoreFor(store), { onError: (err) => server.log.error({ err }, 'usage flush failed') });

  // Delivery: the variant/origin cache (emptied at start: its index lives in memory), the bus
  // purges travel on, and the origin fetchers (S3 loads its SDK on first use).
  const deliveryCache =
    overrides.deliveryCache ??
    (await DiskDeliveryCache.open({
      root: join(config.dataDir, 'cache', ...(worker ? [`worker-${worker.index}`] : [])),
      maxBytes: share(config.delivery.cacheMaxBytes),
      memoryMaxBytes: share(config.delivery.cacheMemoryBytes),
      unlinkGraceMs: Math.max(120_000, config.delivery.transformTimeoutMs * 2),
      onError: (err) => server.log.warn({ err }, 'delivery cache file error'),
    }));
  // On PostgreSQL every node holds its own delivery cache, so purges travel over LISTEN/NOTIFY;
  // the workers of one server on SQLite pass them through their primary.
  const cacheBus =
    overrides.cacheBus ??
    (config.database.kind === 'postgres'
      ? await PgCacheBus.forStore(store, {
          connectionString: config.database.url,
          onError: (err) => server.log.warn({ err }, 'cache bus connection problem'),
        })
      : worker
        ? new ClusterCacheBus(worker.channel, (err) => server.log.error({ err }, 'a purge could not reach the other workers'))
        : new InProcessCacheBus());
  const purges = purgeStoreFor(store);
  if (!worker) await purges.completePending(new Date().toISOString());
  const s3Origins = new S3OriginFetcher({
    allowPrivate: config.allowPrivateUrls,
    maxBytes: config.maxUploadBytes,
    requestTimeoutMs: Math.max(config.urlFetchHeaderTimeoutMs, 30_000),
  });
  const deliveryProbe = new SharpMediaProbe(config.delivery.maxInputPixels);
  const deliveryEngine = new DeliveryEngine({
    lib: library,
    endpoints: {
      resolveEndpoint: (p) => deps.accounts.resolveEndpoint(p),
      deliveryEndpoints: () => deps.accounts.deliveryEndpoints(),
    },
    cache: deliveryCache,
    bus: cacheBus,
    purges,
    origins: [
      new WebOriginFetcher({ allowPrivate: config.allowPrivateUrls, headerTimeoutMs: config.urlFetchHeaderTimeoutMs, maxBytes: config.maxUploadBytes }),
      s3Origins,
    ],
    imagekitId: config.imagekitId,
    publicUrl: config.publicUrl,
    privateKey: config.privateKey,
    limits: {
      maxInputPixels: config.delivery.maxInputPixels,
      maxOutputPixels: config.delivery.maxOutputPixels,
      timeoutMs: config.delivery.transformTimeoutMs,
      maxOverlayBytes: 64 * 1024 * 1024,
    },
    maxConcurrentTransforms: share(config.delivery.maxConcurrentTransforms),
    maxQueuedTransforms: share(config.delivery.transformQueue),
    autoAvif: config.delivery.autoAvif,
    named: config.delivery.namedTransformations,
    analyze: async (path, size) => {
      const probe = await deliveryProbe.probe(path, 'variant');
      return (await deliveryProbe.analyze(path, probe, size)).metadata;
    },
    log: { warn: (obj, msg) => server.log.warn(obj, msg) },
    ...(tracked.changeSignal === 'every-commit' ? { libraryGeneration: tracked.generation } : {}),
  });
  usage.measureOriginalCacheWith(() => deliveryCache.stats().originalBytes);

  // Webhook deliveries and extensions are jobs on the same durable queue: persisted, retried with
  // backoff, resumed after a restart.
  const webhooks = new WebhookService(
    jobs,
    new SafeWebhookTransport({ allowPrivate: config.allowPrivateUrls, timeoutMs: config.webhooks.timeoutMs }),
    webhookLogFor(store),
    {
      secret: config.webhooks.secret,
      accountUrl: config.webhooks.url,
      retry: webhookRetryPolicy(config.webhooks.retry),
      onError: (err) => server.log.error({ err }, 'webhook event not queued'),
    },
  );
  webhooks.registerJobs();
  const savedExtensions = new SavedExtensionService(savedExtensionStoreFor(store), () => library.now());
  const extensionUrls = { publicUrl: config.publicUrl, imagekitId: config.imagekitId };
  const extensions = new ExtensionService({
    lib: library,
    queue: jobs,
    providers: extensionProvidersFrom(config.extensions),
    saved: savedExtensions,
    webhooks,
    probe: new SharpMediaProbe(),
    spool,
    customFields,
    present: (f) => fileDetails(extensionUrls, f),
    usage,
    // DbJobQueue's default maxAttempts: the last attempt reports a persisting failure itself.
    maxAttempts: 5,
    onError: (err) => server.log.error({ err }, 'extension error'),
  });
  extensions.registerJobs();
  // Upload pre-transformations render with the delivery pipeline's limits; post-transformations
  // warm the delivery cache for every format class a client may negotiate.
  const warmAccepts: Array<string | undefined> = [undefined, 'image/webp', ...(config.delivery.autoAvif ? ['image/avif,image/webp'] : [])];
  const uploadTransforms = new UploadTransformService({
    lib: library,
    queue: jobs,
    webhooks,
    spool,
    probe: new SharpMediaProbe(),
    limits: {
      maxInputPixels: config.delivery.maxInputPixels,
      maxOutputPixels: config.delivery.maxOutputPixels,
      timeoutMs: config.delivery.transformTimeoutMs,
    },
    maxConcurrent: share(config.delivery.maxConcurrentTransforms),
    maxQueued: share(config.delivery.transformQueue),
    named: config.delivery.namedTransformations,
    maxOverlayBytes: 64 * 1024 * 1024,
    warm: async (filePath, tr) => {
      const rawPath = `/${config.imagekitId}${encodeFilePath(filePath)}`;
      for (const accept of warmAccepts) await deliveryEngine.deliver({ rawPath, rawQuery: `tr=${tr}`, accept, trusted: true });
    },
    transformedUrl: (filePath, tr) => `${config.publicUrl}/${config.imagekitId}${encodeFilePath(filePath)}?tr=${tr}`,
    presentUpload: (f, probe) => uploadResponse(extensionUrls, f, probe, new Set()),
    maxAttempts: 5,
    onError: (err) => server.log.error({ err }, 'upload transformation error'),
  });
  uploadTransforms.registerJobs();
  const deps: RouteDeps = {
    config,
    urls: { publicUrl: config.publicUrl, imagekitId: config.imagekitId },
    files,
    bulk: new BulkService(library, files),
    folders,
    customFields,
    list: new ListService({
      search: assetSearchFor(store),
      customFieldTypes: async () => new Map((await customFields.list()).map((f) => [f.name, f.schema.type])),
    }),
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
      customFields,
    ),
    uploadTransforms,
    uploadAuth: new UploadAuthService({ privateKey: config.privateKey, publicKey: config.publicKey }, store),
    delivery: new DeliveryService(library, deliveryEngine),
    metadata: new MetadataService(library, { publicUrl: config.publicUrl, imagekitId: config.imagekitId }, (url) =>
      deliveryEngine.metadataOfUrl(url),
    ),
    accounts: new AccountService(others ? afterWrites(accountStoreFor(store), others.announce) : accountStoreFor(store), {
      imagekitId: config.imagekitId,
      publicUrl: config.publicUrl,
      ...(others ? { changesElsewhere: others.changes } : {}),
    }),
    usage,
    extensions,
    savedExtensions,
    webhooks,
    spool,
    // Every node counts against the same limit: in the shared database when there is one, and
    // for the workers of one server on SQLite, in their primary.
    rateLimiter: !config.rateLimit
      ? null
      : config.database.kind === 'postgres'
        ? pgRateLimiterFor(store, config.rateLimit.limit, config.rateLimit.intervalMs, {
            onError: (err) => server.log.warn({ err }, 'rate limit prune failed'),
          })
        : worker
          ? new ClusterRateLimiter(worker.channel)
          : new MemoryRateLimiter(config.rateLimit.limit, config.rateLimit.intervalMs),
    health: () => store.ping(),
  };

  // Request ids: a random prefix per process, so ids of several nodes or runs do not collide, and a
  // counter (formatting a random number cost 0.4 µs of every request, a cache hit's included).
  const requestIdPrefix = randomBytes(5).toString('hex');
  let requestCount = 0;
  const server = Fastify({
    logger: overrides.logger === false ? false : { level: config.logLevel },
    bodyLimit: 10 * 1024 * 1024,
    genReqId: () => requestIdPrefix + (++requestCount).toString(36),
    // Long uploads must not be cut off by the default request timeout.
    requestTimeout: 0,
    return503OnClosing: true,
    frameworkErrors: onFrameworkError,
  });
  if (swept.removed > 0) server.log.info({ removed: swept.removed }, 'removed orphan blobs left by an interrupted write');
  registerErrorHandling(server);
  // Browsers upload directly with client-side auth, and the media library UI calls the API from
  // its own origin; auth is by key, never by cookie, so any origin may call. The lists are given as the
  // header values they become: the plugin would join an array on every request.
  await server.register(cors, {
    origin: '*',
    methods: 'GET, HEAD, POST, PUT, PATCH, DELETE',
    exposedHeaders: 'X-RateLimit-Limit, X-RateLimit-Reset, X-RateLimit-Interval, Retry-After, x-request-id, ETag, Content-Range',
  });

  server.get('/healthz', async (_req, reply) => {
    try {
      await deps.health();
      return { status: 'ok' };
    } catch {
      return reply.status(503).send({ status: 'unavailable' });
    }
  });

  // The API and everything no route matches, with multipart bodies. @fastify/multipart hooks every
  // request of its scope (a close listener, a cleanup after the response): a sixth of a cached
  // delivery's CPU, so delivery routes are registered outside this scope.
  await server.register(async (api) => {
    await api.register(multipart, { throwFileSizeLimit: true });
    registerNotFoundHandler(api);
    await api.register(uploadRoutes(deps));
    // Management API: private-key auth and rate limits for every route in this scope.
    await api.register(async (scope) => {
      scope.addHook('onRequest', async (req) => {
        requirePrivateKey(req, config.privateKey);
        await enforceRateLimit(deps, req, 'private');
      });
      await scope.register(filesRoutes(deps));
      await scope.register(cacheRoutes(deps));
      await scope.register(metadataRoutes(deps));
      await scope.register(assetsRoutes(deps));
      await scope.register(bulkRoutes(deps));
      await scope.register(foldersRoutes(deps));
      await scope.register(bulkJobsRoutes(deps));
      await scope.register(customMetadataFieldsRoutes(deps));
      await scope.register(accountsRoutes(deps));
      await scope.register(savedExtensionsRoutes(deps));
    });
  });
  // GET and HEAD only: no body to parse, no multipart hooks.
  await server.register(deliveryRoutes(deps));
  // Jobs left unfinished by the last run (or by a dead worker) resume from their last checkpoint.
  jobs.start();

  return {
    server,
    async close() {
      await server.close();
      // The current batch of a running job finishes; the job resumes at the next start.
      await jobs.stop();
      // Delivery counters still in memory are written before the store closes.
      await deps.usage.close();
      await deps.delivery.close();
      await deliveryCache.close();
      await cacheBus.close();
      s3Origins.close();
      clearInterval(journalSweeps);
      closeBlobs();
      await store.close();
    },
  };
}

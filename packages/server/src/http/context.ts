import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import { rateLimited } from '../errors/index.js';
import type { RateLimiter } from '../ports/rate-limiter.js';
import type { AccountService } from '../services/account-service.js';
import type { BulkService } from '../services/bulk-service.js';
import type { CustomMetadataService } from '../services/custom-metadata-service.js';
import type { DeliveryService } from '../services/delivery-service.js';
import type { ExtensionService } from '../services/extension-service.js';
import type { FileService } from '../services/file-service.js';
import type { FolderService } from '../services/folder-service.js';
import type { ListService } from '../services/list-service.js';
import type { MetadataService } from '../services/metadata-service.js';
import type { SavedExtensionService } from '../services/saved-extension-service.js';
import type { UploadAuthService } from '../services/upload-auth.js';
import type { UploadService } from '../services/upload-service.js';
import type { UploadTransformService } from '../services/upload-transforms.js';
import type { UsageService } from '../services/usage-service.js';
import type { WebhookService } from '../services/webhook-service.js';
import type { SpoolDir } from '../util/spool.js';
import type { UrlContext } from './presenters/files.js';

/** What the route plugins are given by app.ts. */
export interface RouteDeps {
  config: Config;
  urls: UrlContext;
  files: FileService;
  bulk: BulkService;
  folders: FolderService;
  /** List and search (GET /v1/files). */
  list: ListService;
  customFields: CustomMetadataService;
  upload: UploadService;
  /** The upload `transformation` parameter: pre applied before the store, post as jobs after it. */
  uploadTransforms: UploadTransformService;
  uploadAuth: UploadAuthService;
  delivery: DeliveryService;
  /** GET metadata by fileId or by URL (stored at upload). */
  metadata: MetadataService;
  /** Origins and URL endpoints; delivery resolves request paths through it. */
  accounts: AccountService;
  /** Usage metering: delivery records bytes and requests here. */
  usage: UsageService;
  /** Extensions of upload and update: checked before the write, queued after it. */
  extensions: ExtensionService;
  /** /v1/saved-extensions. */
  savedExtensions: SavedExtensionService;
  /** File events to the account-wide webhook endpoint. */
  webhooks: WebhookService;
  spool: SpoolDir;
  rateLimiter: RateLimiter | null;
  health: () => Promise<void>;
}

/** Applies the per-key rate limit; throws the spec's RateLimitExceeded (429). */
export async function enforceRateLimit(deps: RouteDeps, _req: FastifyRequest, key: string): Promise<void> {
  if (!deps.rateLimiter) return;
  const d = await deps.rateLimiter.hit(key);
  if (!d.allowed) {
    throw rateLimited('You have exceeded the rate limit for this API key. Wait for X-RateLimit-Reset milliseconds and retry.', {
      headers: {
        'X-RateLimit-Limit': String(d.limit),
        'X-RateLimit-Reset': String(d.resetMs),
        'X-RateLimit-Interval': String(d.intervalMs),
        'Retry-After': String(Math.max(1, Math.ceil(d.resetMs / 1000))),
      },
    });
  }
}

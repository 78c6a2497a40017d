import { ImageKitError } from './core/errors.js';
import type { HeaderValues } from './core/request-options.js';
import { base64Utf8 } from './internal/base64.js';
import { nodeUserAgent, readEnv } from './internal/runtime.js';
import { Transport, type FetchFunction } from './internal/transport.js';
import { Accounts } from './resources/accounts/client.js';
import { Assets } from './resources/assets/client.js';
import { Beta } from './resources/beta/client.js';
import { Cache } from './resources/cache/client.js';
import { CustomMetadataFields } from './resources/customMetadataFields/client.js';
import { Files } from './resources/files/client.js';
import { Folders } from './resources/folders/client.js';
import { VERSION } from './version.js';

/** API and upload hosts of a deployment. */
export interface ImageKitEnvironmentUrls {
  /** Management API, e.g. `https://api.imagekit.io`. */
  readonly base: string;
  /** Upload API, e.g. `https://upload.imagekit.io`. */
  readonly upload: string;
}

/** Known deployments. For Tessera, pass its URL as `baseUrl` (uploads then go there too). */
export const ImageKitEnvironment = {
  Default: { base: 'https://api.imagekit.io', upload: 'https://upload.imagekit.io' },
} as const satisfies Record<string, ImageKitEnvironmentUrls>;

export interface ImageKitClientOptions {
  /**
   * Your private API key; sent as HTTP Basic `privateKey:`. Defaults to the `IMAGEKIT_PRIVATE_KEY`
   * environment variable in Node. Leave it out in browsers and authenticate uploads client-side.
   */
  privateKey?: string;
  /** Basic-auth form: the username (ImageKit's is the private key). Used when `privateKey` is not set. */
  username?: string;
  /** Basic-auth password; ImageKit ignores it. */
  password?: string;
  /** A named environment, or one URL for both API and uploads. Default `ImageKitEnvironment.Default`. */
  environment?: ImageKitEnvironmentUrls | string;
  /** API base URL (e.g. your Tessera server); overrides `environment`. Uploads follow it unless `uploadBaseUrl` is set. */
  baseUrl?: string;
  /** Upload base URL. Default: the environment's upload host, or `baseUrl` when that is set. */
  uploadBaseUrl?: string;
  /** Per-attempt timeout. Default 60 s, and 600 s for uploads. */
  timeoutInSeconds?: number;
  /** Retries on network errors, 408, 429 and 5xx. Default 2. */
  maxRetries?: number;
  /** Headers sent with every request; `null` removes a default one. */
  headers?: HeaderValues;
  /** A fetch implementation (default: the global `fetch`). */
  fetch?: FetchFunction;
}

const DEFAULT_MAX_RETRIES = 2;

/**
 * Client for the ImageKit API — ImageKit's cloud or a Tessera server.
 *
 * @example
 * import { ImageKitClient } from '@tessera/sdk';
 * const client = new ImageKitClient({ privateKey: process.env.IMAGEKIT_PRIVATE_KEY });
 * const local = new ImageKitClient({ privateKey: 'private_…', baseUrl: 'http://localhost:3000' });
 */
export class ImageKitClient {
  readonly files: Files;
  readonly customMetadataFields: CustomMetadataFields;
  readonly assets: Assets;
  readonly folders: Folders;
  readonly accounts: Accounts;
  readonly beta: Beta;
  readonly cache: Cache;
  /** The resolved API base URL. */
  readonly baseUrl: string;
  /** The resolved upload base URL. */
  readonly uploadBaseUrl: string;

  constructor(options: ImageKitClientOptions = {}) {
    const env: ImageKitEnvironmentUrls =
      typeof options.environment === 'string'
        ? { base: options.environment, upload: options.environment }
        : (options.environment ?? ImageKitEnvironment.Default);
    this.baseUrl = checkUrl('baseUrl', options.baseUrl ?? env.base);
    this.uploadBaseUrl = checkUrl('uploadBaseUrl', options.uploadBaseUrl ?? options.baseUrl ?? env.upload);

    if (options.timeoutInSeconds !== undefined && !(options.timeoutInSeconds > 0)) {
      throw new ImageKitError('timeoutInSeconds must be a positive number');
    }
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new ImageKitError('maxRetries must be a non-negative integer');
    }

    const transport = new Transport({
      baseUrl: this.baseUrl,
      uploadBaseUrl: this.uploadBaseUrl,
      authorization: basicAuthorization(options),
      timeoutInSeconds: options.timeoutInSeconds,
      maxRetries,
      headers: options.headers,
      userAgent: nodeUserAgent(VERSION),
      fetch: options.fetch,
    });
    this.files = new Files(transport);
    this.customMetadataFields = new CustomMetadataFields(transport);
    this.assets = new Assets(transport);
    this.folders = new Folders(transport);
    this.accounts = new Accounts(transport);
    this.beta = new Beta(transport);
    this.cache = new Cache(transport);
  }
}

function basicAuthorization(options: ImageKitClientOptions): string | undefined {
  // ImageKit takes the private key as the Basic username and ignores the password.
  const user = options.privateKey ?? options.username ?? readEnv('IMAGEKIT_PRIVATE_KEY');
  if (user === undefined || user === '') return undefined;
  return `Basic ${base64Utf8(`${user}:${options.password ?? ''}`)}`;
}

function checkUrl(name: string, url: string): string {
  if (!/^https?:\/\/[^/]/i.test(url)) throw new ImageKitError(`${name} must be an http(s) URL, got "${url}"`);
  return url.replace(/\/+$/, '');
}

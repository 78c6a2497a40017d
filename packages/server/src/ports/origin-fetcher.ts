import type { OriginRecord, OriginType } from './account-store.js';

/**
 * Fetching an original from an external origin (an S3 bucket, a web server, any URL through a
 * web proxy) into a local file, for the delivery path. One adapter per family of origin types.
 */

export interface OriginRequest {
  /** Decoded source path, with a leading "/" (`/folder/a b.jpg`, `/https://example.com/a.jpg`). */
  path: string;
  /** The same path as it was received (still percent-encoded), for origins reached over HTTP. */
  rawPath: string;
  /** The delivery request's Host header, for origins that forward it. */
  host?: string;
}

export interface OriginObject {
  /** Bytes written to the destination file. */
  size: number;
  contentType: string | null;
  /** The origin marked the file private (S3 metadata `isprivatefile`, HTTP `Is-Private-File`). */
  isPrivate: boolean;
}

export interface OriginFetcher {
  /** Origin types this fetcher reaches. */
  readonly types: readonly OriginType[];
  /**
   * Writes the object at `req.path` into `dest`. Resolves null when the origin does not have it
   * (or cannot serve this kind of path), so the next origin is tried; rejects on other failures.
   */
  fetch(origin: OriginRecord, req: OriginRequest, dest: string): Promise<OriginObject | null>;
}

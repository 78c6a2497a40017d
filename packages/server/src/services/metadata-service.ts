import { badRequest, notFound } from '../errors/index.js';
import type { AssetState } from '../ports/metadata-store.js';
import { assertId } from './file-service.js';
import type { Library } from './library.js';

/** The default URL endpoint this server delivers from: `<publicUrl>/<imagekitId>/<file path>`. */
export interface DefaultEndpoint {
  publicUrl: string;
  imagekitId: string;
}

const NOT_FOUND = 'The requested file does not exist or is inaccessible at this time.';

/**
 * Finds the file (or file version) whose stored metadata the metadata endpoints return. The
 * metadata itself was computed at upload; nothing here reads the bytes.
 */
/** A stored asset (its Metadata was computed at upload) or the metadata of a rendered variant. */
export type UrlMetadata = { asset: AssetState } | { rendered: Record<string, unknown> };

export class MetadataService {
  constructor(
    private readonly lib: Library,
    private readonly endpoint: DefaultEndpoint,
    /** The Metadata object of what a transformed delivery URL serves (the delivery path renders it). */
    private readonly transformed?: (url: URL) => Promise<Record<string, unknown>>,
  ) {}

  async ofFile(fileId: string): Promise<AssetState> {
    assertId(fileId, 'fileId');
    const f = await this.lib.store.repo.getFile(fileId);
    if (!f) throw notFound(NOT_FOUND);
    return f;
  }

  /**
   * A URL of this server's default URL endpoint, optionally with `?ik-obj-version=<versionId>`.
   * ImageKit answers a URL without transformations with the original's metadata, and one with
   * transformations with the rendered image's own metadata.
   */
  async ofUrl(raw: unknown): Promise<UrlMetadata> {
    if (typeof raw !== 'string' || raw.trim() === '') throw badRequest('Your request is missing the url parameter.');
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw badRequest('The url parameter should be a valid URL.');
    }
    const base = new URL(`${this.endpoint.publicUrl.replace(/\/+$/, '')}/${this.endpoint.imagekitId}/`);
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
      throw badRequest('The url should be accessible using your ImageKit.io account.');
    }
    const rest = url.pathname.slice(base.pathname.length - 1); // keeps the leading '/'
    if (rest.split('/').some((s) => s.startsWith('tr:') || s.startsWith('tr%3A') || s.startsWith('tr%3a')) || url.searchParams.has('tr')) {
      if (!this.transformed) {
        throw badRequest('Metadata of transformed URLs is not available on this server; pass the URL of the original file (without tr).');
      }
      // The transformed image's own facts, read from the rendered bytes.
      return { rendered: await this.transformed(url) };
    }
    let filePath: string;
    try {
      filePath = decodeURIComponent(rest);
    } catch {
      throw badRequest('The url path is not valid percent-encoding.');
    }
    if (filePath === '/' || filePath.endsWith('/')) throw notFound(NOT_FOUND);
    const file = await this.lib.store.repo.getFileByPath(filePath);
    if (!file) throw notFound(NOT_FOUND);
    const versionId = url.searchParams.get('ik-obj-version');
    if (versionId === null) return { asset: file };
    const version = /^[0-9a-f]{24}$/.test(versionId) ? await this.lib.store.repo.getVersion(file.id, versionId) : undefined;
    if (!version) throw notFound(NOT_FOUND);
    return { asset: version };
  }
}

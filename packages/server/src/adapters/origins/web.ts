import { rm } from 'node:fs/promises';
import { isApiError } from '../../errors/index.js';
import type { OriginRecord } from '../../ports/account-store.js';
import type { OriginFetcher, OriginObject, OriginRequest } from '../../ports/origin-fetcher.js';
import { fetchUrlToFile, type SafeFetchOptions } from '../net/safe-fetch.js';

/**
 * WEB_FOLDER (a base URL the source path is appended to) and WEB_PROXY (the source path is itself
 * an absolute http(s) URL), both through the SSRF-safe client with the same address rules, time
 * limits and size cap as URL uploads.
 */
export interface WebOriginOptions {
  allowPrivate: boolean;
  headerTimeoutMs: number;
  maxBytes: number;
  idleTimeoutMs?: number;
  lookup?: SafeFetchOptions['lookup'];
}

/** `https://x`, `https:/x` (slashes merged by a path normaliser) or the encoded form, as an absolute URL. */
export function proxiedUrl(path: string): string | null {
  const m = /^\/?(https?):\/+(.*)$/i.exec(path);
  if (!m) return null;
  return `${(m[1] as string).toLowerCase()}://${m[2] as string}`;
}

export class WebOriginFetcher implements OriginFetcher {
  readonly types = ['WEB_FOLDER', 'WEB_PROXY'] as const;

  constructor(private readonly opts: WebOriginOptions) {}

  async fetch(origin: OriginRecord, req: OriginRequest, dest: string): Promise<OriginObject | null> {
    let url: string;
    const headers: Record<string, string> = { 'x-req-from': 'tessera' };
    if (origin.type === 'WEB_FOLDER') {
      url = origin.baseUrl.replace(/\/+$/, '') + (req.rawPath.startsWith('/') ? req.rawPath : `/${req.rawPath}`);
      if (origin.forwardHostHeaderToOrigin && req.host) headers.host = req.host;
    } else if (origin.type === 'WEB_PROXY') {
      const target = proxiedUrl(req.path);
      if (target === null) return null;
      url = target;
    } else {
      return null;
    }
    try {
      const res = await fetchUrlToFile(url, dest, {
        allowPrivate: this.opts.allowPrivate,
        headerTimeoutMs: this.opts.headerTimeoutMs,
        maxBytes: this.opts.maxBytes,
        ...(this.opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: this.opts.idleTimeoutMs } : {}),
        ...(this.opts.lookup ? { lookup: this.opts.lookup } : {}),
        headers,
      });
      const flag = res.headers['is-private-file'];
      return {
        size: res.bytes,
        contentType: res.contentType,
        isPrivate: typeof flag === 'string' && flag.trim().toLowerCase() === 'true',
      };
    } catch (e) {
      await rm(dest, { force: true });
      // Refused addresses, non-2xx answers, unreachable hosts: this origin does not have the file.
      if (isApiError(e) && e.status < 500 && e.status !== 413) return null;
      throw e;
    }
  }
}

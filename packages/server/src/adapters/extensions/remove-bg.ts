import { ExtensionProviderError, type BackgroundRemover, type CallOptions, type ProviderImage, type RemoveBgOptions } from '../../ports/extension-providers.js';
import { errorDetail, providerFetch, statusError } from './http.js';

/**
 * remove-bg through a remove.bg-compatible API: `POST <endpoint>` (default
 * https://api.remove.bg/v1.0/removebg) with `X-Api-Key`, a multipart form carrying `image_file`
 * and the parameters (`size`, `format`, and the spec's options passed through as remove.bg names
 * them: add_shadow, semitransparency, bg_color, bg_image_url). The answer is the image itself;
 * errors are JSON `{errors: [{title, detail?, code?}]}`.
 */

export interface RemoveBgHttpOptions {
  endpoint: string;
  apiKey: string | null;
  timeoutMs: number;
}

const PROVIDER = 'The remove-bg service';

export class RemoveBgHttp implements BackgroundRemover {
  constructor(private readonly opts: RemoveBgHttpOptions) {}

  async removeBackground(image: ProviderImage, options: RemoveBgOptions, opts: CallOptions): Promise<{ bytes: Buffer; mime: string }> {
    const form = new FormData();
    const ext = image.mime === 'image/png' ? 'png' : image.mime === 'image/webp' ? 'webp' : 'jpg';
    form.append('image_file', new Blob([new Uint8Array(image.bytes)], { type: image.mime }), `image.${ext}`);
    // The original's resolution, and PNG so the cut-out keeps its alpha.
    form.append('size', 'auto');
    form.append('format', 'png');
    if (options.add_shadow !== undefined) form.append('add_shadow', String(options.add_shadow));
    if (options.semitransparency !== undefined) form.append('semitransparency', String(options.semitransparency));
    if (options.bg_color) form.append('bg_color', options.bg_color);
    if (options.bg_image_url) form.append('bg_image_url', options.bg_image_url);
    const headers: Record<string, string> = { accept: 'image/*' };
    if (this.opts.apiKey) headers['x-api-key'] = this.opts.apiKey;
    const res = await providerFetch({ provider: PROVIDER, url: this.opts.endpoint, headers, body: form, timeoutMs: this.opts.timeoutMs, signal: opts.signal });
    if (res.status < 200 || res.status > 299) {
      const detail = errorDetail(res.body, (j) => {
        const e = (j.errors as Array<{ title?: unknown; detail?: unknown }> | undefined)?.[0];
        return [e?.title, e?.detail].filter((x) => typeof x === 'string').join(': ') || undefined;
      });
      throw statusError(PROVIDER, res, detail);
    }
    const mime = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!mime.startsWith('image/')) {
      throw new ExtensionProviderError(`${PROVIDER} answered with ${mime || 'no content type'} instead of an image.`, true);
    }
    if (res.body.length === 0) throw new ExtensionProviderError(`${PROVIDER} answered with an empty image.`, true);
    return { bytes: res.body, mime };
  }
}

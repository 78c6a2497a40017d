/**
 * The webhook transport: one POST to a caller-supplied URL under the same outbound address rules
 * as URL uploads (safe-fetch.ts). Every DNS answer is checked with `forbiddenAddressReason` and
 * the socket is pinned to the checked answers; redirects are never followed (a 3xx is just a
 * failed delivery); the whole exchange is bounded by a timeout and the answer body is discarded.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { WebhookRefusedError, type WebhookTransport } from '../../ports/webhook-transport.js';
import { bareHost, checkedAddresses, defaultLookup, pinnedTarget, type ResolvedAddress } from './safe-fetch.js';

export interface WebhookPostOptions {
  /** When false, refuse every non-public destination. */
  allowPrivate: boolean;
  timeoutMs: number;
  userAgent?: string;
  /** DNS injection for tests. */
  lookup?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
}

async function resolveChecked(url: URL, opts: WebhookPostOptions): Promise<ResolvedAddress[]> {
  const host = bareHost(url);
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!opts.allowPrivate && (name === 'localhost' || name.endsWith('.localhost'))) {
    throw new WebhookRefusedError(`The webhook host "${name}" is a local name; only public addresses may receive webhooks.`);
  }
  const literal = isIP(host);
  const answers = literal
    ? [{ address: host }]
    : await (opts.lookup ?? defaultLookup)(host).catch((e: unknown) => {
        throw new Error(`Could not resolve the webhook host "${name}" (${(e as { code?: string }).code ?? 'DNS lookup failed'}).`);
      });
  if (answers.length === 0) throw new Error(`Could not resolve the webhook host "${name}" (no addresses).`);
  return checkedAddresses(answers, opts.allowPrivate, {
    invalid: () => new Error(`Could not resolve the webhook host "${name}" (invalid address in DNS answer).`),
    forbidden: (reason) =>
      new WebhookRefusedError(
        `The webhook host "${name}" resolves to a non-public address (${reason}); webhooks to private, local or reserved networks are not allowed.`,
      ),
  });
}

export class SafeWebhookTransport implements WebhookTransport {
  constructor(private readonly opts: WebhookPostOptions) {}

  async post(rawUrl: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<{ status: number }> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new WebhookRefusedError('The webhook URL is not a valid URL.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookRefusedError(`Webhook URLs must be http or https (got ${url.protocol}).`);
    if (url.username !== '' || url.password !== '') throw new WebhookRefusedError('Webhook URLs with embedded credentials are not allowed.');
    const addresses = await resolveChecked(url, this.opts);
    const secure = url.protocol === 'https:';
    const payload = Buffer.from(body, 'utf8');

    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request({
        ...pinnedTarget(url, addresses),
        servername: isIP(url.hostname) ? undefined : url.hostname,
        method: 'POST',
        headers: {
          ...headers,
          host: url.host,
          'user-agent': this.opts.userAgent ?? 'Tessera-Webhooks/0.1',
          'content-length': String(payload.length),
          connection: 'close',
        },
        // A fresh socket per delivery: a pooled one could carry a connection made under other DNS answers.
        agent: false,
      });
      let settled = false;
      const finish = (err: Error | null, status?: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve({ status: status! });
      };
      const timer = setTimeout(() => {
        req.destroy();
        finish(new Error(`The receiver did not answer within ${this.opts.timeoutMs} ms.`));
      }, this.opts.timeoutMs);
      const onAbort = () => {
        req.destroy();
        finish(signal?.reason instanceof Error ? signal.reason : new Error('The delivery was aborted.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e: NodeJS.ErrnoException) => finish(new Error(`Could not deliver to "${url.host}" (${e.code ?? e.message}).`)));
      req.on('response', (res) => {
        // The answer's body means nothing to us; read a little so the socket closes cleanly.
        let seen = 0;
        res.on('data', (c: Buffer) => {
          seen += c.length;
          if (seen > 64 * 1024) res.destroy();
        });
        res.on('error', () => undefined);
        res.on('close', () => finish(null, res.statusCode ?? 0));
        res.on('end', () => finish(null, res.statusCode ?? 0));
      });
      req.end(payload);
    });
  }
}

/**
 * Outbound HTTP(S) fetch for user-supplied URLs (upload `file` URLs, later origins and webhooks).
 *
 * The threat is SSRF: a caller making the server reach loopback, the LAN or a cloud metadata
 * service. Defences: only http(s); DNS is resolved here and EVERY answer is checked; the socket
 * is pinned to the checked answers (so a second, rebinding DNS answer is never used); redirects
 * are followed by hand and each hop goes through the same checks; sizes and times are bounded.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { WriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import ipaddr from 'ipaddr.js';
import { ApiError, badRequest, payloadTooLarge } from '../../errors/index.js';

export interface SafeFetchOptions {
  /** When false, refuse every non-public destination (see forbiddenAddressReason). */
  allowPrivate: boolean;
  /** Per hop: DNS + connect + response headers must complete within this time. */
  headerTimeoutMs: number;
  /** Decoded body larger than this → 413. */
  maxBytes: number;
  /** Default 5. */
  maxRedirects?: number;
  /** Body stalls longer than this → abort. Default 30 s. */
  idleTimeoutMs?: number;
  /** Aborting rejects with signal.reason. */
  signal?: AbortSignal;
  /** DNS injection for tests; default dns.promises.lookup(all: true). */
  lookup?: (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;
  /** Extra request headers (origin fetches: a forwarded Host, an identifying header). */
  headers?: Readonly<Record<string, string>>;
}

export interface SafeFetchResult {
  /** Bytes written to destPath (after content decoding). */
  bytes: number;
  contentType: string | null;
  /** URL of the hop that answered 2xx. */
  finalUrl: string;
  /** Content-Disposition filename, else the last path segment of finalUrl. */
  fileNameHint: string | null;
  /** The answering hop's response headers. */
  headers: http.IncomingHttpHeaders;
}

/**
 * Socket factory with the shape of http.request's `createConnection`. Only for
 * fetchUrlToFileWithSocketFactory (a test seam).
 */
export type SocketFactory = NonNullable<http.ClientRequestArgs['createConnection']>;

/** A DNS answer that passed the address checks; connections are pinned to these. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_ENCODING_LAYERS = 3;
const USER_AGENT = 'Tessera/0.1 (+url-fetch)';

/**
 * Names refused before any DNS query: loopback names and the well-known metadata hostnames.
 * Their addresses would be refused anyway; refusing by name also avoids leaking the query.
 */
const FORBIDDEN_HOSTNAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]);

/**
 * Metadata endpoints. Most already sit in refused ranges; 168.63.129.16 (Azure WireServer) is a
 * publicly routable address, so it must be listed explicitly.
 */
const METADATA_ADDRESSES = new Set(
  ['169.254.169.254', '169.254.170.2', '169.254.0.23', '100.100.100.200', '192.0.0.192', '168.63.129.16', 'fd00:ec2::254'].map(
    (a) => ipaddr.parse(a).toNormalizedString(),
  ),
);

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * Why `address` (a literal IPv4/IPv6 string) is not a public destination, or null if it is.
 * IPv6 forms that embed an IPv4 address (mapped, SIIT, NAT64, 6to4) are judged by that address.
 */
export function forbiddenAddressReason(address: string): string | null {
  if (isIP(address) === 0) return 'not an IP address';
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return 'not an IP address';
  }
  return parsed.kind() === 'ipv4' ? v4Reason(parsed as ipaddr.IPv4) : v6Reason(parsed as ipaddr.IPv6);
}

function v4Reason(ip: ipaddr.IPv4): string | null {
  if (METADATA_ADDRESSES.has(ip.toNormalizedString())) return 'cloud metadata';
  const range = ip.range();
  return range === 'unicast' ? null : range;
}

function v4FromParts(hi: number | undefined, lo: number | undefined): ipaddr.IPv4 {
  const h = hi ?? 0;
  const l = lo ?? 0;
  return new ipaddr.IPv4([h >> 8, h & 0xff, l >> 8, l & 0xff]);
}

function v6Reason(ip: ipaddr.IPv6): string | null {
  if (METADATA_ADDRESSES.has(ip.toNormalizedString())) return 'cloud metadata';
  const p = ip.parts;
  const range = ip.range();
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT) reach the embedded IPv4 host.
  if (range === 'ipv4Mapped' || range === 'rfc6145') return v4Reason(v4FromParts(p[6], p[7]));
  // Well-known NAT64 prefix translates to the embedded IPv4; the local-use /48 is operator-defined.
  if (range === 'rfc6052') {
    return ip.match(NAT64_WELL_KNOWN) ? v4Reason(v4FromParts(p[6], p[7])) : 'nat64 local-use';
  }
  if (range === '6to4') return v4Reason(v4FromParts(p[1], p[2]));
  if (range !== 'unicast') return range;
  // Deprecated IPv4-compatible ::a.b.c.d and the rest of ::/8 have no legitimate public use.
  if (!ip.match(GLOBAL_UNICAST_V6)) return 'not global unicast';
  return null;
}

/** Parses and checks a URL for the scheme/credential rules; every hop goes through this. */
function parseTarget(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = base ? new URL(raw, base) : new URL(raw);
  } catch {
    throw badRequest(base ? 'The URL redirected to an invalid location.' : 'The file URL is not a valid URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badRequest(
      base
        ? `The URL redirected to a ${url.protocol} URL; only http and https are allowed.`
        : `Only http and https URLs can be fetched (got ${url.protocol}).`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw badRequest('URLs with embedded credentials (user:password@) are not allowed.');
  }
  if (url.hostname === '') throw badRequest('The file URL has no host.');
  return url;
}

/** WHATWG hostnames keep IPv6 literals bracketed; sockets and ipaddr want them bare. */
export function bareHost(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s} second${s === 1 ? '' : 's'}`;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KB`;
  return `${n} bytes`;
}

function tooLarge(maxBytes: number): ApiError {
  return payloadTooLarge(`The file at the URL is larger than the maximum allowed size of ${formatBytes(maxBytes)}.`);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('The fetch was aborted.');
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Every address the system resolver has for hostname, in its order. */
export async function defaultLookup(hostname: string): Promise<ResolvedAddress[]> {
  const answers: LookupAddress[] = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

/**
 * Races `work` against a timeout and the caller's signal. The loser keeps running but its
 * outcome is ignored (Promise.race keeps its rejection handled).
 */
async function bounded<T>(work: Promise<T>, ms: number, onTimeout: () => Error, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guards = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    if (signal) {
      onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([work, guards]);
  } finally {
    clearTimeout(timer);
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Resolves the hop's host and refuses it unless every address passes. */
async function resolveHop(url: URL, opts: SafeFetchOptions, timeoutMs: number): Promise<ResolvedAddress[]> {
  const host = bareHost(url);
  const literal = isIP(host);
  if (literal !== 0) {
    // WHATWG parsing already turned 2130706433, 0x7f.1, 127.1 … into dotted quads.
    if (!opts.allowPrivate) {
      const reason = forbiddenAddressReason(host);
      if (reason !== null) throw refusedAddress(url.hostname, reason);
    }
    return [{ address: host, family: literal === 6 ? 6 : 4 }];
  }

  const name = host.toLowerCase().replace(/\.$/, '');
  if (!opts.allowPrivate && (FORBIDDEN_HOSTNAMES.has(name) || name.endsWith('.localhost'))) {
    throw badRequest(`The host "${name}" is not allowed: it is a local or cloud-metadata name.`);
  }

  const lookup = opts.lookup ?? defaultLookup;
  let answers: Array<{ address: string; family: 4 | 6 }>;
  try {
    answers = await bounded(
      lookup(host),
      timeoutMs,
      () => badRequest(`Could not resolve the host "${name}" within ${formatSeconds(opts.headerTimeoutMs)}.`),
      opts.signal,
    );
  } catch (err) {
    if (err instanceof ApiError || opts.signal?.aborted) throw err;
    throw badRequest(`Could not resolve the host "${name}" (${errorCode(err) ?? 'DNS lookup failed'}).`, { cause: err });
  }
  if (answers.length === 0) throw badRequest(`Could not resolve the host "${name}" (no addresses).`);
  return checkedAddresses(answers, opts.allowPrivate, {
    invalid: () => badRequest(`Could not resolve the host "${name}" (invalid address in DNS answer).`),
    forbidden: (reason) => refusedAddress(name, reason),
  });
}

/**
 * Checks every DNS answer for a host: each must be an IP address (a lookup that returns a non-IP
 * would make net.connect do its own DNS query) and, unless allowPrivate, a public one. The errors
 * are the caller's: `invalid()` for a non-IP answer, `forbidden(reason)` for a non-public address.
 */
export function checkedAddresses(
  answers: ReadonlyArray<{ address: string }>,
  allowPrivate: boolean,
  refuse: { invalid: () => Error; forbidden: (reason: string) => Error },
): ResolvedAddress[] {
  const checked: ResolvedAddress[] = [];
  for (const a of answers) {
    const fam = isIP(a.address);
    if (fam === 0) throw refuse.invalid();
    if (!allowPrivate) {
      const reason = forbiddenAddressReason(a.address);
      if (reason !== null) throw refuse.forbidden(reason);
    }
    checked.push({ address: a.address, family: fam === 6 ? 6 : 4 });
  }
  return checked;
}

function refusedAddress(host: string, reason: string): ApiError {
  // The resolved address is deliberately not echoed: it would let callers map internal DNS.
  return badRequest(
    `The host "${host}" resolves to a non-public address (${reason}); fetching from private, local or reserved networks is not allowed.`,
  );
}

/**
 * Where a request to `url` connects: its host, port and path, with a lookup pinned to the checked
 * addresses. Pair it with a fresh socket (`agent: false`): a pooled keep-alive socket is keyed by
 * host:port only and could carry a connection made under other DNS answers or settings.
 */
export function pinnedTarget(
  url: URL,
  addresses: ResolvedAddress[],
): Pick<https.RequestOptions, 'protocol' | 'host' | 'port' | 'path' | 'lookup'> {
  const secure = url.protocol === 'https:';
  return {
    protocol: url.protocol,
    host: bareHost(url),
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    lookup: pinnedLookup(addresses),
  };
}

/**
 * A LookupFunction that only ever answers with the pre-checked addresses, so the connection goes
 * exactly where the check said, while host/SNI/certificate checks still use the hostname.
 */
function pinnedLookup(addresses: ResolvedAddress[]): NonNullable<http.ClientRequestArgs['lookup']> {
  return (hostname: string, options: LookupOptions, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
    const usable = wanted === 0 ? addresses : addresses.filter((a) => a.family === wanted);
    const first = usable[0];
    if (first === undefined) {
      const err: NodeJS.ErrnoException = new Error(`No checked address of family ${wanted} for ${hostname}`);
      err.code = 'ENOTFOUND';
      process.nextTick(() => callback(err, '', 0));
      return;
    }
    if (options.all === true) {
      const list: LookupAddress[] = usable.map((a) => ({ address: a.address, family: a.family }));
      process.nextTick(() => callback(null, list));
    } else {
      process.nextTick(() => callback(null, first.address, first.family));
    }
  };
}

function connectionError(err: unknown, url: URL): ApiError {
  const code = errorCode(err);
  const host = url.hostname;
  switch (code) {
    case 'ECONNREFUSED':
      return badRequest(`Could not connect to "${host}": connection refused.`, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return badRequest(`The connection to "${host}" was reset before it answered.`, { cause: err });
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return badRequest(`Could not connect to "${host}" (${code}).`, { cause: err });
    default:
      if (code !== undefined && (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL'))) {
        return badRequest(`The TLS connection to "${host}" failed (${code}).`, { cause: err });
      }
      return badRequest(`Could not fetch the URL from "${host}" (${code ?? 'connection error'}).`, { cause: err });
  }
}

/** Sends the GET for one hop and resolves with the response once its headers arrived. */
function requestHop(
  url: URL,
  addresses: ResolvedAddress[],
  opts: SafeFetchOptions,
  remainingMs: number,
  socketFactory: SocketFactory | undefined,
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const reqOpts: https.RequestOptions = {
      ...pinnedTarget(url, addresses),
      method: 'GET',
      headers: {
        host: url.host,
        'user-agent': USER_AGENT,
        accept: '*/*',
        ...opts.headers,
        // Ask for raw bytes; compressed answers are still decoded below.
        'accept-encoding': 'identity',
        connection: 'close',
      },
    };
    if (socketFactory) {
      reqOpts.createConnection = socketFactory;
    } else {
      // A fresh agent per hop: a pooled keep-alive socket is keyed by host:port only and
      // could carry a connection made under different DNS answers or allowPrivate settings.
      reqOpts.agent = false;
    }

    let settled = false;
    let req: http.ClientRequest;
    try {
      req = (secure ? https : http).request(reqOpts);
    } catch (err) {
      // e.g. a socket factory or option validation throwing synchronously.
      reject(connectionError(err, url));
      return;
    }
    const onAbort = (): void => {
      if (opts.signal) req.destroy(toError(abortReason(opts.signal)));
    };
    const timer = setTimeout(() => {
      req.destroy(badRequest(`The URL did not send response headers within ${formatSeconds(opts.headerTimeoutMs)}.`));
    }, remainingMs);
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    // Stays attached for the request's whole life: a late socket error must never go unhandled.
    req.on('error', (err) => {
      if (settled) return;
      finish();
      if (err instanceof ApiError) reject(err);
      else if (opts.signal?.aborted) reject(abortReason(opts.signal));
      else reject(connectionError(err, url));
    });
    req.once('response', (res) => {
      if (settled) {
        res.destroy();
        return;
      }
      finish();
      // Until the body pipeline takes over, an error on res must not crash the process.
      res.on('error', () => undefined);
      resolve(res);
    });
    req.end();
  });
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Content-Encoding layers in the order they must be undone (last applied first). */
function decodingPlan(header: string | undefined): string[] {
  if (header === undefined) return [];
  const layers = header
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
  if (layers.length > MAX_ENCODING_LAYERS) throw badRequest('The URL answered with too many content encodings.');
  for (const l of layers) {
    if (!['gzip', 'x-gzip', 'deflate', 'br'].includes(l)) {
      throw badRequest(`The URL answered with an unsupported content encoding "${l}".`);
    }
  }
  return layers.reverse();
}

/**
 * "deflate" should be zlib-wrapped (RFC 9110) but some servers send raw deflate. A zlib header
 * has compression method 8 in the low nibble and a header checksum divisible by 31.
 */
function looksZlibWrapped(head: Buffer): boolean {
  const cmf = head[0];
  const flg = head[1];
  if (cmf === undefined || flg === undefined) return true;
  return (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}

/** Reads at least n bytes (or until the end) and pushes them back, to sniff a format. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const chunk: unknown = stream.read();
    if (Buffer.isBuffer(chunk)) {
      parts.push(chunk);
      len += chunk.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        stream.off('readable', done);
        stream.off('end', done);
        stream.off('close', done);
        stream.off('error', fail);
        resolve();
      };
      const fail = (err: Error): void => {
        stream.off('readable', done);
        stream.off('end', done);
        stream.off('close', done);
        stream.off('error', fail);
        reject(err);
      };
      stream.on('readable', done);
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', fail);
    });
  }
  const head = Buffer.concat(parts);
  if (head.length === 0 || stream.destroyed) return head;
  // Pushing back after 'end' is an error; a body this short cannot be valid deflate anyway.
  if (stream.readableEnded) throw badRequest('The URL answered with a corrupt compressed body.');
  stream.unshift(head);
  return head;
}

function decoderFor(encoding: string, rawDeflate: boolean): Transform {
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return rawDeflate ? zlib.createInflateRaw() : zlib.createInflate();
    default:
      return zlib.createBrotliDecompress();
  }
}

function contentDispositionName(header: string | undefined): string | null {
  if (header === undefined) return null;
  // RFC 6266/8187 extended form wins over the plain one.
  const ext = /(?:^|;)\s*filename\*\s*=\s*([^']*)'[^']*'([^;]*)/i.exec(header);
  if (ext?.[2] !== undefined) {
    const charset = (ext[1] ?? '').trim().toLowerCase();
    const value = ext[2].trim();
    try {
      if (charset === 'utf-8' || charset === '') return decodeURIComponent(value);
      // ISO-8859-1: each %XX is one code point.
      return value.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i.exec(header);
  if (plain) {
    if (plain[1] !== undefined) return plain[1].replace(/\\(.)/g, '$1');
    if (plain[2] !== undefined) return plain[2].trim();
  }
  return null;
}

function lastPathSegment(url: URL): string | null {
  const seg = url.pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

/** A hint only: reduced to a plain base name without control characters. */
function cleanFileName(name: string | null): string | null {
  if (name === null) return null;
  const base = (name.split(/[/\\]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 255);
  return base === '' || base === '.' || base === '..' ? null : base;
}

/** Streams the 2xx body into destPath with size, idle and abort limits. */
async function saveBody(
  res: http.IncomingMessage,
  url: URL,
  destPath: string,
  opts: SafeFetchOptions,
): Promise<SafeFetchResult> {
  const { maxBytes } = opts;
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  let plan: string[];
  try {
    plan = decodingPlan(res.headers['content-encoding']);
  } catch (err) {
    res.destroy();
    throw err;
  }

  // Content-Length is the encoded size; only trust it against maxBytes when nothing is encoded.
  const declared = res.headers['content-length'];
  if (plan.length === 0 && declared !== undefined && Number(declared) > maxBytes) {
    res.destroy();
    throw tooLarge(maxBytes);
  }

  // The reason we stopped on purpose; pipeline may otherwise report a generic premature close.
  let failure: unknown;
  const stop = (reason: unknown): void => {
    failure ??= reason;
    res.destroy(toError(reason));
  };
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    clearTimeout(idle);
    idle = setTimeout(
      () => stop(badRequest(`The URL stopped sending data for more than ${formatSeconds(idleMs)}.`)),
      idleMs,
    );
  };
  const onAbort = (): void => {
    if (opts.signal) stop(abortReason(opts.signal));
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  armIdle();

  let netError: unknown;
  let decodeError: unknown;
  res.once('error', (err) => {
    netError ??= err;
  });

  let bytes = 0;
  let out: WriteStream | undefined;
  try {
    if (opts.signal?.aborted) stop(abortReason(opts.signal));

    let rawDeflate = false;
    if (plan[0] === 'deflate') rawDeflate = !looksZlibWrapped(await peek(res, 2));

    // Compressed transfers are capped too, so a stream that decodes to nothing cannot run forever.
    const rawCap = plan.length === 0 ? Infinity : maxBytes + Math.ceil(maxBytes / 100) + 65_536;
    let rawBytes = 0;
    const activity = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        armIdle();
        rawBytes += chunk.length;
        if (rawBytes > rawCap) cb(tooLarge(maxBytes));
        else cb(null, chunk);
      },
    });
    const decoders = plan.map((enc, i) => {
      const d = decoderFor(enc, i === 0 && rawDeflate);
      d.once('error', (err) => {
        decodeError ??= err;
      });
      return d;
    });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > maxBytes) cb(tooLarge(maxBytes));
        else cb(null, chunk);
      },
    });
    // Opened up front so path errors surface here; the stream then owns and closes the handle.
    // (autoClose: false would make FileHandle.close() wait forever on the stream's reference.)
    const handle = await open(destPath, 'w');
    out = handle.createWriteStream();
    await pipeline([res, activity, ...decoders, counter, out]);
    await closed(out);
  } catch (err) {
    res.destroy();
    if (out) {
      // Wait for the fd to close so nothing can recreate the file after it is removed.
      await closed(out);
      await rm(destPath, { force: true });
    }
    // A deliberate stop (idle, abort) wins over whatever pipeline noticed first.
    if (failure !== undefined) throw failure;
    throw bodyError(err, decodeError, netError, url);
  } finally {
    clearTimeout(idle);
    opts.signal?.removeEventListener('abort', onAbort);
  }

  return {
    bytes,
    contentType: res.headers['content-type'] ?? null,
    finalUrl: url.href,
    fileNameHint: cleanFileName(contentDispositionName(res.headers['content-disposition']) ?? lastPathSegment(url)),
    headers: res.headers,
  };
}

/** Resolves on 'close' only: events.once would reject on the 'error' pipeline already reported. */
function closed(stream: WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

function bodyError(err: unknown, decodeError: unknown, netError: unknown, url: URL): unknown {
  if (err instanceof ApiError) return err;
  if (decodeError !== undefined && err === decodeError) {
    return badRequest('The URL answered with a corrupt compressed body.', { cause: err });
  }
  const code = errorCode(err);
  if (err === netError || code === 'ECONNRESET' || (netError !== undefined && code === 'ERR_STREAM_PREMATURE_CLOSE')) {
    return badRequest(`The connection to "${url.hostname}" dropped while downloading the file.`, { cause: err });
  }
  if (code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return badRequest(`The connection to "${url.hostname}" closed before the file was complete.`, { cause: err });
  }
  // File-system and other local failures are ours, not the caller's: keep them as they are.
  return err;
}

async function run(
  rawUrl: string,
  destPath: string,
  opts: SafeFetchOptions,
  socketFactory: SocketFactory | undefined,
): Promise<SafeFetchResult> {
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let url = parseTarget(rawUrl);
  const visited = new Set<string>();

  for (let redirects = 0; ; ) {
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    visited.add(url.href);

    const started = Date.now();
    const addresses = await resolveHop(url, opts, opts.headerTimeoutMs);
    const remaining = Math.max(1, opts.headerTimeoutMs - (Date.now() - started));
    const res = await requestHop(url, addresses, opts, remaining, socketFactory);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;

    if (REDIRECT_STATUSES.has(status) && location !== undefined && location !== '') {
      res.destroy();
      if (redirects >= maxRedirects) {
        throw badRequest(`The URL redirected more than ${maxRedirects} time${maxRedirects === 1 ? '' : 's'}.`);
      }
      const next = parseTarget(location, url);
      if (visited.has(next.href)) throw badRequest('The URL redirects in a loop.');
      redirects += 1;
      url = next;
      continue;
    }
    if (status < 200 || status > 299) {
      res.destroy();
      throw badRequest(`The URL answered with status ${status}; expected a 2xx response.`, { cause: { upstreamStatus: status } });
    }
    return saveBody(res, url, destPath, opts);
  }
}

/**
 * Downloads an http(s) URL into destPath (created or truncated) under the SSRF and size rules of
 * `opts`. Failures the caller caused are ApiErrors (400, or 413 for size); the partial file is
 * removed. Aborting via opts.signal rejects with the signal's reason.
 */
export async function fetchUrlToFile(url: string, destPath: string, opts: SafeFetchOptions): Promise<SafeFetchResult> {
  return run(url, destPath, opts, undefined);
}

/**
 * TEST SEAM ONLY. Same as fetchUrlToFile, but every hop's socket comes from `socketFactory`
 * (which receives the request options, including the pinned `lookup`). Lets a test give a
 * "public" address a local stand-in and prove what would be connected to, without sending any
 * traffic off the machine. All URL, DNS and address checks still run before the factory is called.
 */
export async function fetchUrlToFileWithSocketFactory(
  url: string,
  destPath: string,
  opts: SafeFetchOptions,
  socketFactory: SocketFactory,
): Promise<SafeFetchResult> {
  return run(url, destPath, opts, socketFactory);
}

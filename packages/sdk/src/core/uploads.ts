import { ImageKitError } from './errors.js';

/**
 * A Node.js `Readable` (e.g. `fs.createReadStream(...)`) or any async iterable of byte chunks.
 * It is streamed to the server chunk by chunk, never buffered whole.
 */
export interface StreamLike extends AsyncIterable<Uint8Array | string> {
  /** Set by `fs.ReadStream`; its basename becomes the default `fileName`. */
  readonly path?: string | Uint8Array;
}

/**
 * Anything accepted as an upload's `file`:
 * - bytes: `Buffer`, `Uint8Array` (any `ArrayBufferView`), `ArrayBuffer`;
 * - `Blob` / `File` (a `File`'s name becomes the default `fileName`);
 * - a stream: Node `Readable`/`ReadStream`, a web `ReadableStream`, or an async iterable of chunks;
 * - a string: an `http(s)://` URL for the server to fetch, or base64-encoded content.
 */
export type Uploadable = string | Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array> | StreamLike;

/** A ready-to-send multipart/form-data body. */
export interface MultipartBody {
  readonly contentType: string;
  /** False for streams: their bytes can be sent only once, so such a request is never retried. */
  readonly replayable: boolean;
  /** The body for one attempt. Throws if a one-shot stream was already used. */
  body(): Blob | ReadableStream<Uint8Array>;
}

const encoder = new TextEncoder();

/** The default `fileName` for an input that carries one (`File.name`, `ReadStream.path`). */
export function inferFileName(file: Uploadable): string | undefined {
  if (typeof file !== 'object' || file === null) return undefined;
  const name = (file as { name?: unknown }).name;
  if (isBlob(file) && typeof name === 'string' && name !== '') return name;
  const path = (file as { path?: unknown }).path;
  const p = typeof path === 'string' ? path : path instanceof Uint8Array ? new TextDecoder().decode(path) : undefined;
  if (p === undefined) return undefined;
  const base = p.split(/[\\/]/).pop();
  return base === undefined || base === '' ? undefined : base;
}

export function isBlob(v: unknown): v is Blob {
  if (typeof Blob !== 'undefined' && v instanceof Blob) return true;
  // Blobs from another realm or a polyfill: duck-type the parts we use.
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Blob).arrayBuffer === 'function' &&
    typeof (v as Blob).stream === 'function' &&
    typeof (v as Blob).size === 'number'
  );
}

function isWebReadableStream(v: unknown): v is ReadableStream<Uint8Array> {
  return typeof v === 'object' && v !== null && typeof (v as ReadableStream).getReader === 'function';
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

export interface MultipartInput {
  /** Text fields, in order. */
  fields: ReadonlyArray<readonly [string, string]>;
  /** The binary part; a string `file` is sent as a text field instead. */
  file?: { name: string; fileName: string; data: Uploadable };
}

/**
 * Builds the body by hand (instead of FormData) so that a stream can be sent as a stream: the
 * text fields first, so a server can validate them before the bytes arrive, then the file.
 */
export function buildMultipart(input: MultipartInput): MultipartBody {
  const boundary = `----TesseraBoundary${randomHex(12)}`;
  let head = '';
  for (const [name, value] of input.fields) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(name)}"\r\n\r\n${value}\r\n`;
  }
  const contentType = `multipart/form-data; boundary=${boundary}`;
  const file = input.file;
  if (!file) {
    const all = encoder.encode(`${head}--${boundary}--\r\n`);
    return { contentType, replayable: true, body: () => new Blob([asBlobPart(all)]) };
  }

  const data = file.data;
  const partType = isBlob(data) && data.type ? data.type : 'application/octet-stream';
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(file.name)}"; ` +
    `filename="${escapeQuoted(file.fileName)}"\r\nContent-Type: ${partType}\r\n\r\n`;
  const prefix = encoder.encode(head);
  const suffix = encoder.encode(`\r\n--${boundary}--\r\n`);

  const bytes = toReplayablePart(data);
  if (bytes !== undefined) {
    return {
      contentType,
      replayable: true,
      body: () => new Blob([asBlobPart(prefix), bytes, asBlobPart(suffix)]),
    };
  }

  if (isBlob(data)) {
    // A Blob from another realm or a polyfill cannot be a part of our Blob, but it can be
    // streamed again for every attempt.
    return {
      contentType,
      replayable: true,
      body: () => iterableToStream(framed(prefix, readerIterable(data.stream()), suffix)),
    };
  }

  const chunks = toChunkIterable(data);
  let used = false;
  return {
    contentType,
    replayable: false,
    body: () => {
      if (used) throw new ImageKitError('The upload stream was already consumed and cannot be sent again');
      used = true;
      return iterableToStream(framed(prefix, chunks, suffix));
    },
  };
}

function toReplayablePart(data: Uploadable): BlobPart | undefined {
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data;
  if (data instanceof ArrayBuffer) return data;
  if (ArrayBuffer.isView(data)) return asBlobPart(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return undefined;
}

function toChunkIterable(data: Uploadable): AsyncIterable<unknown> {
  if (isWebReadableStream(data)) return readerIterable(data);
  if (isAsyncIterable(data)) return data;
  throw new ImageKitError(
    'Unsupported upload input: expected a Buffer, Uint8Array, ArrayBuffer, Blob/File, a readable stream, a URL or a base64 string',
  );
}

// ReadableStream is not async-iterable in every browser (Safari), so read it through its reader.
async function* readerIterable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function* framed(prefix: Uint8Array, chunks: AsyncIterable<unknown>, suffix: Uint8Array): AsyncGenerator<Uint8Array> {
  yield prefix;
  for await (const chunk of chunks) yield toBytes(chunk);
  yield suffix;
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return encoder.encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new ImageKitError(`Upload stream yielded an unsupported chunk (${typeof chunk})`);
}

/** Pull-based, so the source is read only as fast as the connection drains it. */
function iterableToStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await it.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
}

function escapeQuoted(s: string): string {
  // The HTML form-encoding rules for names in Content-Disposition.
  return s.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(buf);
  else for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

// TS 5.7+ types Blob parts as ArrayBuffer-backed views only; our views always are.
function asBlobPart(u8: Uint8Array): BlobPart {
  return u8 as unknown as BlobPart;
}

/** Fields ImageKit expects as comma-separated lists in an upload form. */
const COMMA_SEPARATED = new Set(['tags', 'responseFields']);

/**
 * Turns upload parameters into form fields the way ImageKit's upload API reads them:
 * `tags`/`responseFields` comma-separated, objects and other arrays (`customMetadata`,
 * `extensions`, `transformation`) as JSON, booleans as "true"/"false"; unset values are left out.
 */
export function encodeUploadFields(params: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') out.push([key, value]);
    else if (typeof value === 'boolean') out.push([key, value ? 'true' : 'false']);
    else if (typeof value === 'number' || typeof value === 'bigint') out.push([key, String(value)]);
    else if (Array.isArray(value) && COMMA_SEPARATED.has(key)) out.push([key, value.map(String).join(',')]);
    else out.push([key, JSON.stringify(value)]);
  }
  return out;
}

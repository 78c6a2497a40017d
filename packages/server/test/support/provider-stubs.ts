/**
 * Local HTTP stand-ins for the extension providers (the real services cannot be reached from the
 * test machines) and a webhook receiver. Each one checks that requests arrive in its service's
 * documented wire format — the Rekognition stub verifies the SigV4 signature itself, with its own
 * implementation of the algorithm and the shared secret — and answers in that format.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Stub {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  readonly requests: Recorded[];
  close(): Promise<void>;
}

type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

export async function startStub(handler: Handler): Promise<Stub> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const rec: Recorded = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(rec);
      Promise.resolve(handler(rec, res)).catch((e: unknown) => {
        if (!res.headersSent) json(res, 500, { error: String(e) });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A plain background (corner colour) with a differently coloured disc in the middle, as a JPEG. */
export async function subjectOnPlainBackground(size = 96): Promise<Buffer> {
  const r = Math.round(size / 4);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="#2e86de"/><circle cx="${size / 2}" cy="${size / 2}" r="${r}" fill="#e67e22"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 95 }).toBuffer();
}

/** Whether the bytes decode as an image; its metadata when they do. */
export async function imageMeta(bytes: Buffer): Promise<Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>> | null> {
  try {
    return await sharp(bytes).metadata();
  } catch {
    return null;
  }
}

/** Switches a stub can be flipped through while a test runs. */
export interface Behaviour {
  /** Answer the next N requests with this status (then behave). */
  failNext?: { count: number; status: number };
  /** Never answer (the request hangs until the client gives up or the stub closes). */
  hang?: boolean;
}

function misbehave(b: Behaviour, res: ServerResponse, body: unknown): boolean {
  if (b.hang) return true;
  if (b.failNext && b.failNext.count > 0) {
    b.failNext.count--;
    json(res, b.failNext.status, body);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Google Cloud Vision: POST …/v1/images:annotate

export interface VisionStubOptions {
  apiKey?: string;
  accessToken?: string;
  /** Labels with scores on Vision's 0–1 scale, best first. */
  labels: Array<{ description: string; score: number }>;
}

export async function visionStub(opts: VisionStubOptions): Promise<Stub & { behaviour: Behaviour }> {
  const behaviour: Behaviour = {};
  const stub = await startStub(async (req, res) => {
    if (misbehave(behaviour, res, { error: { code: behaviour.failNext?.status ?? 500, message: 'backend error', status: 'UNAVAILABLE' } })) return;
    if (req.method !== 'POST' || req.path !== '/v1/images:annotate') return json(res, 404, { error: { code: 404, message: `no route ${req.path}` } });
    const keyOk = opts.apiKey !== undefined && req.query.get('key') === opts.apiKey;
    const tokenOk = opts.accessToken !== undefined && req.headers.authorization === `Bearer ${opts.accessToken}`;
    if (!keyOk && !tokenOk) return json(res, 403, { error: { code: 403, message: 'API key not valid. Please pass a valid API key.', status: 'PERMISSION_DENIED' } });
    if (!String(req.headers['content-type']).startsWith('application/json')) return json(res, 400, { error: { code: 400, message: 'bad content type' } });
    const body = JSON.parse(req.body.toString('utf8')) as { requests?: Array<{ image?: { content?: string }; features?: Array<{ type?: string; maxResults?: number }> }> };
    const r0 = body.requests?.[0];
    const feature = r0?.features?.[0];
    if (body.requests?.length !== 1 || feature?.type !== 'LABEL_DETECTION') return json(res, 400, { error: { code: 400, message: 'expected one LABEL_DETECTION request' } });
    const img = r0?.image?.content ? await imageMeta(Buffer.from(r0.image.content, 'base64')) : null;
    if (!img) return json(res, 200, { responses: [{ error: { code: 3, message: 'Bad image data.' } }] });
    const max = feature.maxResults ?? 10;
    json(res, 200, {
      responses: [{ labelAnnotations: opts.labels.slice(0, max).map((l, i) => ({ mid: `/m/0${i}`, description: l.description, score: l.score, topicality: l.score })) }],
    });
  });
  return Object.assign(stub, { behaviour });
}

// ---------------------------------------------------------------------------------------------
// Amazon Rekognition DetectLabels, with SigV4 verified independently of the client's signer.

const sha256hex = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Checks an AWS Signature Version 4 `Authorization` header; null when valid, else why not. */
export function sigV4Problem(req: Recorded, creds: { accessKeyId: string; secretAccessKey: string }, region: string, service: string, now = Date.now()): string | null {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `malformed Authorization header: ${auth}`;
  const [, keyId, day, reg, svc, signedHeaders, signature] = m as unknown as string[];
  if (keyId !== creds.accessKeyId) return 'unknown access key';
  if (reg !== region || svc !== service) return `wrong scope ${reg}/${svc}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== day) return 'bad x-amz-date';
  const at = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  if (Math.abs(now - at) > 5 * 60_000) return 'request time too skewed';
  const names = signedHeaders!.split(';');
  for (const required of ['host', 'x-amz-date']) if (!names.includes(required)) return `${required} is not signed`;
  const payloadHash = sha256hex(req.body);
  const declared = req.headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash) return 'x-amz-content-sha256 does not match the body';
  const canonicalHeaders = names.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalQuery = [...req.query.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalUri = req.path.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/') || '/';
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day!), region), service), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
  return expected === signature ? null : 'signature mismatch';
}

export interface RekognitionStubOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Confidence on Rekognition's 0–100 scale. */
  labels: Array<{ Name: string; Confidence: number }>;
}

export async function rekognitionStub(opts: RekognitionStubOptions): Promise<Stub & { behaviour: Behaviour; signatureProblems: string[] }> {
  const behaviour: Behaviour = {};
  const signatureProblems: string[] = [];
  const stub = await startStub(async (req, res) => {
    if (misbehave(behaviour, res, { __type: 'ThrottlingException', message: 'Rate exceeded' })) return;
    const problem = sigV4Problem(req, opts, opts.region, 'rekognition');
    if (problem) {
      signatureProblems.push(problem);
      return json(res, 403, { __type: 'InvalidSignatureException', message: `The request signature we calculated does not match the signature you provided (${problem}).` });
    }
    if (req.method !== 'POST' || req.path !== '/') return json(res, 404, { __type: 'UnknownOperationException' });
    if (req.headers['x-amz-target'] !== 'RekognitionService.DetectLabels') return json(res, 400, { __type: 'UnknownOperationException', message: String(req.headers['x-amz-target']) });
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') return json(res, 400, { __type: 'SerializationException', message: 'bad content type' });
    const body = JSON.parse(req.body.toString('utf8')) as { Image?: { Bytes?: string }; MaxLabels?: number; MinConfidence?: number };
    const img = body.Image?.Bytes ? await imageMeta(Buffer.from(body.Image.Bytes, 'base64')) : null;
    if (!img) return json(res, 400, { __type: 'InvalidImageFormatException', message: 'Request has invalid image format' });
    const labels = opts.labels.filter((l) => l.Confidence >= (body.MinConfidence ?? 55)).slice(0, body.MaxLabels ?? 1000);
    json(res, 200, { Labels: labels.map((l) => ({ ...l, Instances: [], Parents: [] })), LabelModelVersion: '3.0' });
  });
  return Object.assign(stub, { behaviour, signatureProblems });
}

// ---------------------------------------------------------------------------------------------
// OpenAI chat completions: POST /v1/chat/completions

export interface OpenAiStubOptions {
  apiKey: string;
  model: string;
  description: string;
  /** Answers for ai-tasks, given the questions as the client put them. */
  answer?: (questions: Array<Record<string, unknown>>) => unknown[];
}

export async function openAiStub(opts: OpenAiStubOptions): Promise<Stub & { behaviour: Behaviour }> {
  const behaviour: Behaviour = {};
  const stub = await startStub(async (req, res) => {
    if (misbehave(behaviour, res, { error: { message: 'The server is overloaded', type: 'server_error' } })) return;
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions') return json(res, 404, { error: { message: `Unknown path ${req.path}` } });
    if (req.headers.authorization !== `Bearer ${opts.apiKey}`) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    const body = JSON.parse(req.body.toString('utf8')) as {
      model?: string;
      messages?: Array<{ role: string; content: string | Array<{ type: string; text?: string; image_url?: { url?: string } }> }>;
      response_format?: { type?: string };
    };
    if (body.model !== opts.model) return json(res, 404, { error: { message: `The model ${body.model} does not exist` } });
    const user = body.messages?.find((m) => m.role === 'user');
    const parts = Array.isArray(user?.content) ? user.content : [];
    const image = parts.find((p) => p.type === 'image_url')?.image_url?.url ?? '';
    const m = /^data:(image\/[a-z]+);base64,(.+)$/.exec(image);
    if (!m || !(await imageMeta(Buffer.from(m[2]!, 'base64')))) return json(res, 400, { error: { message: 'Invalid image.' } });
    let content = opts.description;
    if (body.response_format?.type === 'json_object') {
      const text = parts.find((p) => p.type === 'text')?.text ?? '{}';
      const questions = (JSON.parse(text) as { questions: Array<Record<string, unknown>> }).questions;
      content = JSON.stringify({ answers: (opts.answer ?? (() => []))(questions) });
    }
    json(res, 200, {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: opts.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
    });
  });
  return Object.assign(stub, { behaviour });
}

// ---------------------------------------------------------------------------------------------
// remove.bg: POST /v1.0/removebg, multipart with image_file; answers with the cut-out PNG.

/** Makes pixels close to the corner colour transparent: a crude but real background removal. */
export async function cutOut(bytes: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const [r0, g0, b0] = [data[0]!, data[1]!, data[2]!];
  for (let i = 0; i < data.length; i += 4) {
    const d = Math.abs(data[i]! - r0) + Math.abs(data[i + 1]! - g0) + Math.abs(data[i + 2]! - b0);
    if (d < 60) data[i + 3] = 0;
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
}

export interface RemoveBgStubOptions {
  apiKey: string;
}

export async function removeBgStub(opts: RemoveBgStubOptions): Promise<Stub & { behaviour: Behaviour; fields: Array<Record<string, string>> }> {
  const behaviour: Behaviour = {};
  const fields: Array<Record<string, string>> = [];
  const stub = await startStub(async (req, res) => {
    if (misbehave(behaviour, res, { errors: [{ title: 'Service unavailable' }] })) return;
    if (req.method !== 'POST' || req.path !== '/v1.0/removebg') return json(res, 404, { errors: [{ title: 'Not found' }] });
    if (req.headers['x-api-key'] !== opts.apiKey) return json(res, 403, { errors: [{ title: 'API Key invalid', code: 'auth_failed' }] });
    const form = await new Request('http://stub/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: new Uint8Array(req.body) }).formData();
    const seen: Record<string, string> = {};
    for (const [k, v] of form.entries()) if (typeof v === 'string') seen[k] = v;
    fields.push(seen);
    const file = form.get('image_file');
    if (!file || typeof file === 'string') return json(res, 400, { errors: [{ title: 'No image given', code: 'missing_source' }] });
    const input = Buffer.from(await file.arrayBuffer());
    if (!(await imageMeta(input))) return json(res, 400, { errors: [{ title: 'Failed to read the supplied image.', code: 'invalid_image' }] });
    const png = await cutOut(input);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'x-credits-charged': '1' });
    res.end(png);
  });
  return Object.assign(stub, { behaviour, fields });
}

// ---------------------------------------------------------------------------------------------
// A webhook receiver that records every request (raw body and headers).

export interface Received {
  headers: Record<string, string>;
  body: string;
  status: number;
  at: number;
}

export async function webhookReceiver(opts: { statuses?: number[] } = {}): Promise<Stub & { received: Received[]; statuses: number[] }> {
  const received: Received[] = [];
  const statuses = [...(opts.statuses ?? [])];
  const stub = await startStub((req, res) => {
    const status = statuses.length > 0 ? statuses.shift()! : 200;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    received.push({ headers, body: req.body.toString('utf8'), status, at: Date.now() });
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status < 300 ? 'ok' : 'nope');
  });
  return Object.assign(stub, { received, statuses });
}

/** Polls until fn returns a truthy value (or throws after timeoutMs). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 45_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------
// A full set of stubs, and the server settings that point Tessera at them.

export const STUB_KEYS = {
  google: 'test-google-key',
  aws: { accessKeyId: 'AKIDTESSERATEST', secretAccessKey: 'tessera/test/secret+key', region: 'us-east-1' },
  openai: { apiKey: 'sk-tessera-test', model: 'vision-test' },
  removeBg: 'rb-tessera-test',
  webhookSecret: 'whsec_dGVzc2VyYS13ZWJob29rLXNlY3JldA==',
} as const;

export interface ProviderStubs {
  vision: Awaited<ReturnType<typeof visionStub>>;
  rekognition: Awaited<ReturnType<typeof rekognitionStub>>;
  openai: Awaited<ReturnType<typeof openAiStub>>;
  removeBg: Awaited<ReturnType<typeof removeBgStub>>;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startProviderStubs(opts: { openaiAnswer?: OpenAiStubOptions['answer'] } = {}): Promise<ProviderStubs> {
  const vision = await visionStub({
    apiKey: STUB_KEYS.google,
    labels: [
      { description: 'Toy', score: 0.9173 },
      { description: 'Teddy bear', score: 0.8352 },
      { description: 'Red', score: 0.8177 },
      { description: 'Stuffed toy', score: 0.7625 },
      { description: 'Art', score: 0.42 },
    ],
  });
  const rekognition = await rekognitionStub({
    ...STUB_KEYS.aws,
    labels: [
      { Name: 'Teddy Bear', Confidence: 98.52 },
      { Name: 'Toy', Confidence: 98.5 },
      { Name: 'Sweets', Confidence: 77.84 },
      { Name: 'Heart', Confidence: 61.19 },
    ],
  });
  const openai = await openAiStub({ ...STUB_KEYS.openai, description: 'An orange disc on a blue background.', answer: opts.openaiAnswer });
  const removeBg = await removeBgStub({ apiKey: STUB_KEYS.removeBg });
  return {
    vision,
    rekognition,
    openai,
    removeBg,
    env: {
      TESSERA_GOOGLE_VISION_API_KEY: STUB_KEYS.google,
      TESSERA_GOOGLE_VISION_ENDPOINT: `${vision.origin}/v1/images:annotate`,
      TESSERA_AWS_REKOGNITION_REGION: STUB_KEYS.aws.region,
      TESSERA_AWS_REKOGNITION_ACCESS_KEY_ID: STUB_KEYS.aws.accessKeyId,
      TESSERA_AWS_REKOGNITION_SECRET_ACCESS_KEY: STUB_KEYS.aws.secretAccessKey,
      TESSERA_AWS_REKOGNITION_ENDPOINT: `${rekognition.origin}/`,
      TESSERA_OPENAI_API_KEY: STUB_KEYS.openai.apiKey,
      TESSERA_OPENAI_BASE_URL: `${openai.origin}/v1`,
      TESSERA_OPENAI_MODEL: STUB_KEYS.openai.model,
      TESSERA_REMOVE_BG_API_KEY: STUB_KEYS.removeBg,
      TESSERA_REMOVE_BG_ENDPOINT: `${removeBg.origin}/v1.0/removebg`,
      TESSERA_WEBHOOK_SECRET: STUB_KEYS.webhookSecret,
      // Webhook receivers in the tests listen on loopback.
      TESSERA_ALLOW_PRIVATE_URLS: 'true',
      TESSERA_JOB_POLL_MS: '100',
    },
    async close() {
      for (const s of [vision, rekognition, openai, removeBg]) await s.close();
    },
  };
}

import { badRequest, notFound } from '../errors/index.js';
import {
  DEFAULT_ENDPOINT_ID,
  ORIGIN_TYPES,
  type AccountRepo,
  type AccountStore,
  type OriginConfig,
  type OriginRecord,
  type OriginType,
  type UrlEndpointRecord,
  type UrlRewriter,
} from '../ports/account-store.js';
import { newId, nowIso } from '../util/ids.js';

/**
 * Origins and URL endpoints: validation of every origin type's fields, the rules that tie
 * endpoints to origins, and the lookup delivery uses to map a request path to an endpoint and the
 * origins behind it. Records returned here carry secrets: only presenters decide what is shown.
 */

/** A URL endpoint as delivery sees it: its place in the URL space and its origins, in order. */
export interface DeliveryEndpoint extends UrlEndpointRecord {
  /** Path under the public URL that the endpoint owns: `/<imagekit id>` or `/<imagekit id>/<urlPrefix>`. */
  pathPrefix: string;
  /** The endpoint's full URL, as SDKs take it for `urlEndpoint` (no trailing slash). */
  urlEndpoint: string;
  /** The endpoint's origins in the order they are tried, with their secrets (internal use only). */
  origins: OriginRecord[];
}

export interface ResolvedEndpoint {
  endpoint: DeliveryEndpoint;
  /** What follows the endpoint's prefix, starting with "/" ("/" when nothing follows). */
  remainingPath: string;
}

export interface AccountServiceOptions {
  imagekitId: string;
  publicUrl: string;
  /**
   * How long delivery may use a loaded endpoint table before rereading it. This TTL is also how a
   * change made on another node (scale-out) reaches this one: a write here invalidates at once,
   * a write elsewhere is seen within the TTL. Kept short on purpose (default 5 s): the table is on
   * every delivery's path, and a bus message per account write would buy little over it.
   */
  cacheTtlMs?: number;
  /**
   * A count that moves whenever another process sharing this SQLite file has written (worker
   * processes, TESSERA_WORKERS): the table is reread as soon as it moves, so workers see each
   * other's endpoint and origin changes at once rather than within the TTL.
   */
  changesElsewhere?: () => number;
  clock?: () => number;
}

const MAX_ENDPOINT_ORIGINS = 10;
const URL_PREFIX_RE = /^[A-Za-z0-9-]+$/;
const ORIGIN_NAME_RE = /^[a-zA-Z0-9 ]+$/;
// The spec's pattern for a GCS service-account e-mail.
const EMAIL_RE = /^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/;

type Body = Record<string, unknown>;

function asObject(body: unknown, what: string): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`The request body must be a JSON object describing the ${what}.`);
  }
  return body as Body;
}

// ---------------------------------------------------------------------------------------------
// Field readers: each returns the validated value or throws a 400 naming the field.

interface StrRule {
  required?: boolean;
  min?: number;
  max?: number;
  dflt?: string;
}

function str(b: Body, key: string, rule: StrRule = {}): string {
  const v = b[key];
  if (v === undefined || v === null) {
    if (rule.required) throw badRequest(`${key} is required and must be a string.`);
    return rule.dflt ?? '';
  }
  if (typeof v !== 'string') throw badRequest(`${key} must be a string.`);
  if (rule.min !== undefined && v.length < rule.min) {
    throw badRequest(rule.min === 1 ? `${key} cannot be empty.` : `${key} must be at least ${rule.min} characters long.`);
  }
  if (rule.max !== undefined && v.length > rule.max) throw badRequest(`${key} must be at most ${rule.max} characters long.`);
  return v;
}

function optStr(b: Body, key: string, rule: StrRule = {}): string | undefined {
  return b[key] === undefined || b[key] === null ? undefined : str(b, key, rule);
}

function bool(b: Body, key: string, dflt = false): boolean {
  const v = b[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw badRequest(`${key} must be a boolean.`);
  return v;
}

function httpUrl(b: Body, key: string, required: boolean): string | undefined {
  const v = required ? str(b, key, { required: true, min: 1, max: 2048 }) : optStr(b, key, { max: 2048 });
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw badRequest(`${key} must be a valid http or https URL.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest(`${key} must be a valid http or https URL.`);
  return v;
}

function rejectUnknown(b: Body, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k)) throw badRequest(`${k} is not a valid field for ${what}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Origins

const COMMON_ORIGIN_FIELDS = ['name', 'type', 'includeCanonicalHeader', 'baseUrlForCanonicalHeader'] as const;

const ORIGIN_FIELDS: Record<OriginType, readonly string[]> = {
  S3: ['bucket', 'prefix', 'useIAMRole', 'accessKey', 'secretKey'],
  CLOUDINARY_BACKUP: ['bucket', 'prefix', 'useIAMRole', 'accessKey', 'secretKey'],
  S3_COMPATIBLE: ['bucket', 'prefix', 'accessKey', 'secretKey', 'endpoint', 's3ForcePathStyle'],
  WEB_FOLDER: ['baseUrl', 'forwardHostHeaderToOrigin'],
  WEB_PROXY: [],
  GCS: ['bucket', 'prefix', 'clientEmail', 'privateKey'],
  AZURE_BLOB: ['container', 'prefix', 'accountName', 'sasToken'],
  AKENEO_PIM: ['baseUrl', 'clientId', 'clientSecret', 'username', 'password'],
};

/** Validates an OriginRequest (any type) and returns the origin's settings with defaults applied. */
export function parseOriginRequest(body: unknown): OriginConfig {
  const b = asObject(body, 'origin');
  const type = b.type;
  if (typeof type !== 'string' || !(ORIGIN_TYPES as readonly string[]).includes(type)) {
    throw badRequest(`Invalid origin type. Must be one of ${ORIGIN_TYPES.join(', ')}.`);
  }
  const t = type as OriginType;
  rejectUnknown(b, [...COMMON_ORIGIN_FIELDS, ...ORIGIN_FIELDS[t]], `an origin of type ${t}`);

  const name = str(b, 'name', { required: true, min: 1, max: 100 });
  if (!ORIGIN_NAME_RE.test(name)) throw badRequest('name can contain only letters, digits and spaces.');
  const common = {
    name,
    includeCanonicalHeader: bool(b, 'includeCanonicalHeader'),
    ...(b.baseUrlForCanonicalHeader !== undefined && b.baseUrlForCanonicalHeader !== null
      ? { baseUrlForCanonicalHeader: httpUrl(b, 'baseUrlForCanonicalHeader', false)! }
      : {}),
  };
  const bucket = () => str(b, 'bucket', { required: true, min: 1, max: 100 });
  const prefix = () => str(b, 'prefix', { max: 100, dflt: '' });

  switch (t) {
    case 'S3':
    case 'CLOUDINARY_BACKUP': {
      const bucketName = bucket();
      const useIAMRole = bool(b, 'useIAMRole');
      const accessKey = str(b, 'accessKey', { required: true, max: 100 });
      const secretKey = str(b, 'secretKey', { required: true, max: 100 });
      if (useIAMRole && (accessKey !== '' || secretKey !== '')) {
        throw badRequest('accessKey and secretKey must be empty strings when useIAMRole is true.');
      }
      if (!useIAMRole && (accessKey === '' || secretKey === '')) {
        throw badRequest('accessKey and secretKey cannot be empty unless useIAMRole is true.');
      }
      return { ...common, type: t, bucket: bucketName, prefix: prefix(), useIAMRole, accessKey, secretKey };
    }
    case 'S3_COMPATIBLE':
      return {
        ...common,
        type: t,
        bucket: bucket(),
        prefix: prefix(),
        accessKey: str(b, 'accessKey', { required: true, min: 1, max: 100 }),
        secretKey: str(b, 'secretKey', { required: true, min: 1, max: 100 }),
        endpoint: httpUrl(b, 'endpoint', true)!,
        s3ForcePathStyle: bool(b, 's3ForcePathStyle'),
      };
    case 'WEB_FOLDER':
      return { ...common, type: t, baseUrl: httpUrl(b, 'baseUrl', true)!, forwardHostHeaderToOrigin: bool(b, 'forwardHostHeaderToOrigin') };
    case 'WEB_PROXY':
      return { ...common, type: t };
    case 'GCS': {
      const b2 = bucket();
      const clientEmail = str(b, 'clientEmail', { required: true, min: 1, max: 320 });
      if (!EMAIL_RE.test(clientEmail)) throw badRequest('clientEmail must be a valid e-mail address.');
      return { ...common, type: t, bucket: b2, prefix: prefix(), clientEmail, privateKey: str(b, 'privateKey', { required: true, min: 1, max: 16384 }) };
    }
    case 'AZURE_BLOB':
      return {
        ...common,
        type: t,
        container: str(b, 'container', { required: true, min: 1, max: 100 }),
        prefix: prefix(),
        accountName: str(b, 'accountName', { required: true, min: 1, max: 100 }),
        sasToken: str(b, 'sasToken', { required: true, min: 1, max: 4096 }),
      };
    case 'AKENEO_PIM':
      return {
        ...common,
        type: t,
        baseUrl: httpUrl(b, 'baseUrl', true)!,
        clientId: str(b, 'clientId', { required: true, min: 1, max: 100 }),
        clientSecret: str(b, 'clientSecret', { required: true, min: 1, max: 100 }),
        username: str(b, 'username', { required: true, min: 1, max: 100 }),
        password: str(b, 'password', { required: true, min: 1, max: 100 }),
      };
  }
}

// ---------------------------------------------------------------------------------------------
// URL endpoints

interface EndpointInput {
  description: string;
  urlPrefix: string;
  originIds: string[];
  urlRewriter: UrlRewriter | null;
}

function parseRewriter(v: unknown): UrlRewriter | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('urlRewriter must be an object with a type.');
  const r = v as Body;
  switch (r.type) {
    case 'CLOUDINARY':
      rejectUnknown(r, ['type', 'preserveAssetDeliveryTypes'], 'a CLOUDINARY urlRewriter');
      return { type: 'CLOUDINARY', preserveAssetDeliveryTypes: bool(r, 'preserveAssetDeliveryTypes') };
    case 'IMGIX':
    case 'AKAMAI':
      rejectUnknown(r, ['type'], `an ${r.type} urlRewriter`);
      return { type: r.type };
    default:
      throw badRequest('urlRewriter.type must be one of CLOUDINARY, IMGIX, AKAMAI.');
  }
}

/**
 * Validates a UrlEndpointRequest. PUT replaces the endpoint, so omitted fields take the spec's
 * defaults (urlPrefix "", no origins, no rewriter) exactly as on create.
 */
function parseEndpointRequest(body: unknown, isDefault: boolean): EndpointInput {
  const b = asObject(body, 'URL-endpoint');
  rejectUnknown(b, ['description', 'urlPrefix', 'origins', 'urlRewriter'], 'a URL-endpoint');
  if (b.description === undefined || b.description === null || b.description === '') throw badRequest('description is required.');
  const description = str(b, 'description', { required: true, min: 1, max: 1000 });

  const urlPrefix = str(b, 'urlPrefix', { max: 100, dflt: '' });
  if (isDefault) {
    if (urlPrefix !== '') throw badRequest('The urlPrefix of the default URL-endpoint is always empty and cannot be changed.');
  } else {
    if (urlPrefix === '') {
      throw badRequest('urlPrefix cannot be an empty string: the empty prefix belongs to the default URL-endpoint.');
    }
    if (!URL_PREFIX_RE.test(urlPrefix)) throw badRequest('urlPrefix can contain only letters, digits and hyphens.');
  }

  let originIds: string[] = [];
  if (b.origins !== undefined && b.origins !== null) {
    if (!Array.isArray(b.origins) || b.origins.some((o) => typeof o !== 'string')) {
      throw badRequest('origins must be an array of origin ids.');
    }
    originIds = b.origins as string[];
    if (originIds.length > MAX_ENDPOINT_ORIGINS) throw badRequest(`A URL-endpoint can have at most ${MAX_ENDPOINT_ORIGINS} origins.`);
    if (new Set(originIds).size !== originIds.length) throw badRequest('origins must not list the same origin twice.');
  }
  return { description, urlPrefix, originIds, urlRewriter: parseRewriter(b.urlRewriter) };
}

async function assertOriginsExist(tx: AccountRepo, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = new Set((await tx.getOrigins(ids)).map((o) => o.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw badRequest(`Origin ${missing.join(', ')} does not exist. Create the origin before using it in a URL-endpoint.`);
  }
}

// ---------------------------------------------------------------------------------------------

interface Snapshot {
  /** Longest pathPrefix first, so the first match is the longest. */
  endpoints: DeliveryEndpoint[];
  loadedAt: number;
  /** changesElsewhere() when the read started. */
  elsewhere: number;
}

export class AccountService {
  private readonly clock: () => number;
  private readonly ttlMs: number;
  private readonly rootPrefix: string;
  private snapshot: Snapshot | null = null;
  private loading: { snapshot: Promise<Snapshot>; elsewhere: number } | null = null;
  /** Bumped by every write, so a load that raced a write is not kept. */
  private generation = 0;

  constructor(
    private readonly store: AccountStore,
    private readonly opts: AccountServiceOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.ttlMs = opts.cacheTtlMs ?? 5000;
    this.rootPrefix = `/${opts.imagekitId}`;
  }

  // -- origins ---------------------------------------------------------------------------------

  listOrigins(): Promise<OriginRecord[]> {
    return this.store.listOrigins();
  }

  async getOrigin(id: string): Promise<OriginRecord> {
    const o = await this.store.getOrigin(id);
    if (!o) throw notFound('Origin not found.');
    return o;
  }

  async createOrigin(body: unknown): Promise<OriginRecord> {
    const config = parseOriginRequest(body);
    const now = nowIso(this.clock);
    const rec = { ...config, id: newId(), createdAt: now, updatedAt: now } as OriginRecord;
    await this.store.insertOrigin(rec);
    this.invalidate();
    return rec;
  }

  async updateOrigin(id: string, body: unknown): Promise<OriginRecord> {
    const existing = await this.getOrigin(id);
    const config = parseOriginRequest(body);
    const rec = { ...config, id, createdAt: existing.createdAt, updatedAt: nowIso(this.clock) } as OriginRecord;
    if (!(await this.store.replaceOrigin(rec))) throw notFound('Origin not found.');
    this.invalidate();
    return rec;
  }

  async deleteOrigin(id: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (!(await tx.getOrigin(id))) throw notFound('Origin not found.');
      const users = await tx.endpointsUsingOrigin(id);
      if (users.length > 0) {
        throw badRequest(
          `The origin is in use by URL-endpoint ${users.join(', ')}. Remove it from every URL-endpoint before deleting it.`,
        );
      }
      await tx.deleteOrigin(id);
    });
    this.invalidate();
  }

  // -- URL endpoints ---------------------------------------------------------------------------

  listEndpoints(): Promise<UrlEndpointRecord[]> {
    return this.store.listEndpoints();
  }

  async getEndpoint(id: string): Promise<UrlEndpointRecord> {
    const e = await this.store.getEndpoint(id);
    if (!e) throw notFound('URL-endpoint not found.');
    return e;
  }

  async createEndpoint(body: unknown): Promise<UrlEndpointRecord> {
    const input = parseEndpointRequest(body, false);
    const now = nowIso(this.clock);
    const rec: UrlEndpointRecord = { id: newId(), ...input, createdAt: now, updatedAt: now };
    await this.store.transaction(async (tx) => {
      await assertOriginsExist(tx, input.originIds);
      if (await tx.getEndpointByPrefix(input.urlPrefix)) throw prefixTaken(input.urlPrefix);
      if (!(await tx.insertEndpoint(rec))) throw prefixTaken(input.urlPrefix);
    });
    this.invalidate();
    return rec;
  }

  async updateEndpoint(id: string, body: unknown): Promise<UrlEndpointRecord> {
    const rec = await this.store.transaction(async (tx) => {
      const existing = await tx.getEndpoint(id);
      if (!existing) throw notFound('URL-endpoint not found.');
      const input = parseEndpointRequest(body, existing.id === DEFAULT_ENDPOINT_ID);
      await assertOriginsExist(tx, input.originIds);
      const holder = await tx.getEndpointByPrefix(input.urlPrefix);
      if (holder && holder.id !== id) throw prefixTaken(input.urlPrefix);
      const next: UrlEndpointRecord = { ...existing, ...input, updatedAt: nowIso(this.clock) };
      if (!(await tx.replaceEndpoint(next))) throw prefixTaken(input.urlPrefix);
      return next;
    });
    this.invalidate();
    return rec;
  }

  async deleteEndpoint(id: string): Promise<void> {
    if (id === DEFAULT_ENDPOINT_ID) throw badRequest('The default URL-endpoint cannot be deleted.');
    if (!(await this.store.deleteEndpoint(id))) throw notFound('URL-endpoint not found.');
    this.invalidate();
  }

  // -- delivery --------------------------------------------------------------------------------

  /** Every URL endpoint with its place in the URL space and its origins (secrets included). */
  async deliveryEndpoints(): Promise<DeliveryEndpoint[]> {
    return (await this.load()).endpoints;
  }

  /**
   * The endpoint that owns a request path (`/<imagekit id>/…`, query string optional): the one
   * with the longest matching prefix, whole segments only. null when the path is under no endpoint.
   */
  async resolveEndpoint(urlPath: string): Promise<ResolvedEndpoint | null> {
    const q = urlPath.indexOf('?');
    const path = q === -1 ? urlPath : urlPath.slice(0, q);
    if (path !== this.rootPrefix && !path.startsWith(`${this.rootPrefix}/`)) return null;
    for (const endpoint of (await this.load()).endpoints) {
      const p = endpoint.pathPrefix;
      if (path === p || path.startsWith(`${p}/`)) {
        const rest = path.slice(p.length);
        return { endpoint, remainingPath: rest === '' ? '/' : rest };
      }
    }
    return null;
  }

  /** An endpoint's origins in the order they are tried, with secrets (internal use only). */
  async endpointOrigins(endpointId: string): Promise<OriginRecord[]> {
    const e = (await this.load()).endpoints.find((x) => x.id === endpointId);
    if (!e) throw notFound('URL-endpoint not found.');
    return e.origins;
  }

  /** Drops the delivery lookup table; the next lookup rereads the store. */
  invalidate(): void {
    this.generation++;
    this.snapshot = null;
    // A read in flight may have started before the write: later lookups start their own.
    this.loading = null;
  }

  private async load(): Promise<Snapshot> {
    const elsewhere = this.opts.changesElsewhere?.() ?? 0;
    const s = this.snapshot;
    if (s && s.elsewhere === elsewhere && this.clock() - s.loadedAt < this.ttlMs) return s;
    // A read that started before another process's latest commit may miss it: start a new one.
    if (!this.loading || this.loading.elsewhere !== elsewhere) {
      const gen = this.generation;
      const loading = {
        elsewhere,
        snapshot: this.read(elsewhere).then(
          (snap) => {
            if (gen === this.generation) this.snapshot = snap;
            if (this.loading === loading) this.loading = null;
            return snap;
          },
          (e: unknown) => {
            if (this.loading === loading) this.loading = null;
            throw e;
          },
        ),
      };
      this.loading = loading;
    }
    return this.loading.snapshot;
  }

  private async read(elsewhere: number): Promise<Snapshot> {
    const loadedAt = this.clock();
    const [endpoints, origins] = await Promise.all([this.store.listEndpoints(), this.store.listOrigins()]);
    const byId = new Map(origins.map((o) => [o.id, o]));
    const base = this.opts.publicUrl.replace(/\/+$/, '');
    const list: DeliveryEndpoint[] = endpoints.map((e) => {
      const pathPrefix = e.urlPrefix === '' ? this.rootPrefix : `${this.rootPrefix}/${e.urlPrefix}`;
      return {
        ...e,
        pathPrefix,
        urlEndpoint: `${base}${pathPrefix}`,
        origins: e.originIds.map((id) => byId.get(id)).filter((o): o is OriginRecord => o !== undefined),
      };
    });
    list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
    return { endpoints: list, loadedAt, elsewhere };
  }
}

function prefixTaken(urlPrefix: string) {
  return badRequest(`urlPrefix "${urlPrefix}" is already used by another URL-endpoint.`);
}

/**
 * The account store port: origins (external storage the delivery path falls back to) and URL
 * endpoints (which origins a URL prefix reaches, in order). Records hold every field, secrets
 * included; what the API may show is decided by the presenter, never here.
 */

export const ORIGIN_TYPES = [
  'S3',
  'S3_COMPATIBLE',
  'CLOUDINARY_BACKUP',
  'WEB_FOLDER',
  'WEB_PROXY',
  'GCS',
  'AZURE_BLOB',
  'AKENEO_PIM',
] as const;
export type OriginType = (typeof ORIGIN_TYPES)[number];

/** Fields every origin type has. */
export interface OriginBase {
  name: string;
  /** Send a `Link: <…>; rel="canonical"` header with delivered files. */
  includeCanonicalHeader: boolean;
  /** Base of the canonical URL; absent when not configured. */
  baseUrlForCanonicalHeader?: string;
}

/** S3 and the Cloudinary backup bucket (an S3 bucket) share one shape. */
export interface S3Origin extends OriginBase {
  type: 'S3' | 'CLOUDINARY_BACKUP';
  bucket: string;
  prefix: string;
  /** Use the ambient AWS credentials (instance role, environment) instead of keys; the keys are then "". */
  useIAMRole: boolean;
  accessKey: string;
  secretKey: string;
}

export interface S3CompatibleOrigin extends OriginBase {
  type: 'S3_COMPATIBLE';
  bucket: string;
  prefix: string;
  accessKey: string;
  secretKey: string;
  /** http(s) URL of the S3-compatible service. */
  endpoint: string;
  s3ForcePathStyle: boolean;
}

export interface WebFolderOrigin extends OriginBase {
  type: 'WEB_FOLDER';
  /** http(s) URL the remaining path is appended to. */
  baseUrl: string;
  forwardHostHeaderToOrigin: boolean;
}

/** The remaining path is itself an absolute http(s) URL. */
export interface WebProxyOrigin extends OriginBase {
  type: 'WEB_PROXY';
}

export interface GcsOrigin extends OriginBase {
  type: 'GCS';
  bucket: string;
  prefix: string;
  clientEmail: string;
  privateKey: string;
}

export interface AzureBlobOrigin extends OriginBase {
  type: 'AZURE_BLOB';
  container: string;
  prefix: string;
  accountName: string;
  sasToken: string;
}

export interface AkeneoPimOrigin extends OriginBase {
  type: 'AKENEO_PIM';
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

/** An origin's settings exactly as written through the API (secrets included), tagged by `type`. */
export type OriginConfig =
  | S3Origin
  | S3CompatibleOrigin
  | WebFolderOrigin
  | WebProxyOrigin
  | GcsOrigin
  | AzureBlobOrigin
  | AkeneoPimOrigin;

export type OriginRecord = OriginConfig & {
  id: string;
  createdAt: string;
  updatedAt: string;
};

export type UrlRewriter = { type: 'CLOUDINARY'; preserveAssetDeliveryTypes: boolean } | { type: 'IMGIX' } | { type: 'AKAMAI' };

export const DEFAULT_ENDPOINT_ID = 'default';

export interface UrlEndpointRecord {
  /** 24-hex id, or `default` for the endpoint every account has. */
  id: string;
  description: string;
  /** One path segment after the imagekit id; "" only for the default endpoint. */
  urlPrefix: string;
  /** Origin ids, in the order they are tried. */
  originIds: string[];
  urlRewriter: UrlRewriter | null;
  createdAt: string;
  updatedAt: string;
}

export interface AccountRepo {
  /** In creation order. */
  listOrigins(): Promise<OriginRecord[]>;
  getOrigin(id: string): Promise<OriginRecord | undefined>;
  getOrigins(ids: readonly string[]): Promise<OriginRecord[]>;
  insertOrigin(rec: OriginRecord): Promise<void>;
  /** Replaces the whole origin (PUT); false when there is no such origin. */
  replaceOrigin(rec: OriginRecord): Promise<boolean>;
  /** false when there is no such origin. */
  deleteOrigin(id: string): Promise<boolean>;
  /** Ids of the URL endpoints that list the origin. */
  endpointsUsingOrigin(id: string): Promise<string[]>;

  /** The default endpoint first, then in creation order. */
  listEndpoints(): Promise<UrlEndpointRecord[]>;
  getEndpoint(id: string): Promise<UrlEndpointRecord | undefined>;
  getEndpointByPrefix(urlPrefix: string): Promise<UrlEndpointRecord | undefined>;
  /** false when the urlPrefix is already taken (the store enforces uniqueness). */
  insertEndpoint(rec: UrlEndpointRecord): Promise<boolean>;
  /** Replaces the whole endpoint (PUT); false when the urlPrefix is taken by another endpoint. */
  replaceEndpoint(rec: UrlEndpointRecord): Promise<boolean>;
  /** false when there is no such endpoint. */
  deleteEndpoint(id: string): Promise<boolean>;
}

export interface AccountStore extends AccountRepo {
  /** Runs fn in one transaction; everything commits or nothing does. */
  transaction<T>(fn: (tx: AccountRepo) => Promise<T>): Promise<T>;
}

import type { OriginRecord, UrlEndpointRecord } from '../../ports/account-store.js';

/**
 * Origins and URL endpoints in the spec's wire shape (OriginResponse, UrlEndpointResponse).
 * Origin fields are copied by an allow-list per type, so a secret (keys, tokens, passwords, and
 * Akeneo's client id and username, which the spec also leaves out) can never reach the wire.
 */

export function originResponse(o: OriginRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: o.id, name: o.name, type: o.type, includeCanonicalHeader: o.includeCanonicalHeader };
  if (o.baseUrlForCanonicalHeader !== undefined) out.baseUrlForCanonicalHeader = o.baseUrlForCanonicalHeader;
  switch (o.type) {
    case 'S3':
    case 'CLOUDINARY_BACKUP':
      return { ...out, bucket: o.bucket, prefix: o.prefix, useIAMRole: o.useIAMRole };
    case 'S3_COMPATIBLE':
      return { ...out, bucket: o.bucket, prefix: o.prefix, endpoint: o.endpoint, s3ForcePathStyle: o.s3ForcePathStyle };
    case 'WEB_FOLDER':
      return { ...out, baseUrl: o.baseUrl, forwardHostHeaderToOrigin: o.forwardHostHeaderToOrigin };
    case 'WEB_PROXY':
      return out;
    case 'GCS':
      return { ...out, bucket: o.bucket, prefix: o.prefix, clientEmail: o.clientEmail };
    case 'AZURE_BLOB':
      return { ...out, container: o.container, prefix: o.prefix, accountName: o.accountName };
    case 'AKENEO_PIM':
      return { ...out, baseUrl: o.baseUrl };
  }
}

export function urlEndpointResponse(e: UrlEndpointRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { id: e.id, description: e.description, urlPrefix: e.urlPrefix, origins: [...e.originIds] };
  if (e.urlRewriter) out.urlRewriter = { ...e.urlRewriter };
  return out;
}

import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { unauthorized } from '../../errors/index.js';

function same(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * The spec's basicAuth: `Basic base64(privateKey + ":")` or the bare `Basic <privateKey>`.
 * Returns false when no credentials were sent; throws 401 for wrong or malformed ones.
 */
export function checkPrivateKey(req: FastifyRequest, privateKey: string): boolean {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') return false;
  const m = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthorized('Your request contains an Authorization header that is not Basic auth with your private API key.');
  const token = m[1]!;
  if (same(token, privateKey)) return true;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  if (same(user, privateKey)) return true;
  throw unauthorized('Your account cannot be authenticated. The private API key in your request is not valid.');
}

export function requirePrivateKey(req: FastifyRequest, privateKey: string): void {
  if (!checkPrivateKey(req, privateKey)) throw unauthorized('Your request does not contain private API key.');
}

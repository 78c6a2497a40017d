import { randomBytes } from 'node:crypto';

/** 24 lowercase hex characters, the shape of ImageKit's ids. */
export function newId(): string {
  return randomBytes(12).toString('hex');
}

/** ISO 8601 UTC with milliseconds, as the API returns times. */
export function nowIso(clock: () => number = Date.now): string {
  return new Date(clock()).toISOString();
}

/**
 * Shared by the e2e suites under test/e2e: real images, unique folders, polling a folder job, and
 * checking bodies against the ImageKit OpenAPI spec (when it is present; CI always has it).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { ImageKit, ImageKitClient } from '../../src/index.js';
import { assertMatchesSchema, responseSchemaFor, specAvailable, SPEC_MISSING_MESSAGE } from '../../../server/test/support/spec.js';

export const ID = /^[0-9a-f]{24}$/;
export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let warned = false;
/** Call once per suite: says loudly that schema checks are off. */
export function warnIfSpecMissing(): void {
  if (!specAvailable && !warned) {
    warned = true;
    console.warn(`\n!!! ${SPEC_MISSING_MESSAGE} (schema checks in the SDK e2e suites are skipped) !!!\n`);
  }
}

/** Validates `value` against a component schema (`#/components/schemas/X`). */
export function conforms(value: unknown, schemaRef: string): void {
  if (specAvailable) assertMatchesSchema(value, schemaRef);
}

/** Validates `value` against the spec's JSON response of `method path` with `status`. */
export function conformsResponse(value: unknown, path: string, method: string, status: number): void {
  if (!specAvailable) return;
  const ref = responseSchemaFor(path, method, status);
  assert.ok(ref, `the spec has no JSON body for ${method.toUpperCase()} ${path} ${status}`);
  assertMatchesSchema(value, ref);
}

export function makePng(width: number, height: number, rgb: [number, number, number] = [10, 120, 200]): Promise<Buffer> {
  const [r, g, b] = rgb;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

export function makeJpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 250, g: 200, b: 0 } } }).jpeg().toBuffer();
}

/** A unique name per test keeps tests independent on one shared server. */
export const unique = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Polls `folders.job.get` until the job is Completed (the server runs jobs in the background). */
export async function waitForJob(client: ImageKitClient, jobId: string, timeoutMs = 60_000): Promise<ImageKit.JobGetResponse> {
  const deadline = Date.now() + timeoutMs;
  let last: ImageKit.JobGetResponse | undefined;
  for (let delay = 20; Date.now() < deadline; delay = Math.min(delay * 2, 500)) {
    last = await client.folders.job.get(jobId);
    if (last.status === 'Completed') return last;
    await new Promise((r) => setTimeout(r, delay));
  }
  assert.fail(`job ${jobId} did not complete in ${timeoutMs} ms; last status: ${JSON.stringify(last)}`);
}

/** Names of the items, in the order the server returned them. */
export const names = (items: readonly ImageKit.AssetsListResponseItem[]): string[] => items.map((i) => i.name ?? '');

import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { JobConflictError, JobStoppedError, PermanentJobError, jobType, type JobContext, type JobQueue, type RetryPolicy } from '../ports/job-queue.js';
import type { WebhookLog } from '../ports/webhook-log.js';
import { WebhookRefusedError, type WebhookTransport } from '../ports/webhook-transport.js';
import { newId } from '../util/ids.js';

/**
 * Outbound webhooks. Three kinds of message:
 * - the spec's typed events (`{id, type, created_at, data}`: file.created, file.updated,
 *   file.deleted, file-version.created, file-version.deleted) go to the account-wide endpoint
 *   from the settings;
 * - the final status of an extension (`{service, status: SUCCESS|FAILURE, fileObject | fileId +
 *   error}`, ImageKit's documented payload) goes to the `webhookUrl` of the request that asked for
 *   the extension;
 * - the upload pre-/post-transformation events (`{id, type, created_at, request, data}`) go to the
 *   account-wide endpoint and to the upload's own `webhookUrl`.
 *
 * Every delivery is a job on the durable queue, so it survives a restart and failed attempts are
 * retried on ImageKit's schedule (webhookRetryPolicy: spaced retries for up to 24 hours); each
 * attempt is written to the delivery log, and an event that already reached a URL is never sent
 * there again. Requests are signed as Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`), the scheme `@imagekit/nodejs`'s `webhooks.unwrap(body, {headers, key})`
 * verifies. That SDK uses the UTF-8 bytes of the secret string it is given as the HMAC key, so the
 * key here is the configured secret's bytes as they are (a `whsec_` prefix included).
 */

export type FileEventType = 'file.created' | 'file.updated' | 'file.deleted' | 'file-version.created' | 'file-version.deleted';

/** The spec's pre- and post-transformation events of an upload (they carry a `request` object). */
export type UploadTransformEventType =
  | 'upload.pre-transform.success'
  | 'upload.pre-transform.error'
  | 'upload.post-transform.success'
  | 'upload.post-transform.error';

/**
 * The retry policy that fits ImageKit's documented schedule ("retries for a maximum of 24 hours
 * in spaced intervals"): delays double from firstDelayMs up to maxDelayMs, and attempts go on
 * while the next one still falls within windowMs of the first. With the defaults (1 min doubling
 * to 4 h, 24 h) that is 13 attempts, the last about 20 h after the first.
 */
export function webhookRetryPolicy(r: { firstDelayMs: number; maxDelayMs: number; windowMs: number }): RetryPolicy {
  let attempts = 1;
  let elapsed = 0;
  for (;;) {
    const next = Math.min(r.maxDelayMs, r.firstDelayMs * 2 ** (attempts - 1));
    if (elapsed + next > r.windowMs || attempts >= 1000) break;
    elapsed += next;
    attempts++;
  }
  return { maxAttempts: attempts, backoffMs: r.firstDelayMs, maxBackoffMs: r.maxDelayMs };
}

export interface WebhookJobParams {
  eventId: string;
  eventType: string;
  url: string;
  /** The exact JSON text sent (and signed) on every attempt. */
  body: string;
}

export const WEBHOOK_DELIVERY = jobType<WebhookJobParams, Record<string, never>>('WEBHOOK_DELIVERY', {});

export interface WebhookServiceOptions {
  secret: string;
  /** Account-wide endpoint for the typed events; null sends them nowhere. */
  accountUrl: string | null;
  /** How failed deliveries are retried (default: the queue's own policy). */
  retry?: RetryPolicy;
  clock?: () => number;
  /** Failures nobody else sees (an event that could not be queued). */
  onError?: (err: unknown) => void;
}

/** Standard Webhooks headers for one delivery attempt of `body`. */
export function webhookSignatureHeaders(secret: string, eventId: string, at: Date, body: string): Record<string, string> {
  const signer = new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signer.sign(eventId, at, body),
  };
}

export class WebhookService {
  private readonly clock: () => number;

  constructor(
    private readonly queue: JobQueue,
    private readonly transport: WebhookTransport,
    private readonly log: WebhookLog,
    private readonly opts: WebhookServiceOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
  }

  registerJobs(): void {
    this.queue.register(WEBHOOK_DELIVERY, (ctx) => this.deliver(ctx), this.opts.retry);
  }

  /**
   * Queues delivery of `body` to `url`; the event id doubles as the `webhook-id` header.
   * `resend`: the event may have been queued before (a job repeating its last step after a
   * restart): nothing is queued when it was delivered or is still waiting, so two deliveries of
   * one event cannot run side by side.
   */
  async enqueue(url: string, eventId: string, eventType: string, body: unknown, opts: { resend?: boolean } = {}): Promise<void> {
    const params: WebhookJobParams = { eventId, eventType, url, body: JSON.stringify(body) };
    if (!opts.resend) {
      await this.queue.enqueue(WEBHOOK_DELIVERY, params);
      return;
    }
    if (await this.log.delivered(eventId, url)) return;
    try {
      await this.queue.enqueue(WEBHOOK_DELIVERY, params, {
        conflictsWith: (active) => {
          if (active.type !== WEBHOOK_DELIVERY.name) return false;
          const p = active.params as WebhookJobParams;
          return p.eventId === eventId && p.url === url;
        },
      });
    } catch (e) {
      if (!(e instanceof JobConflictError)) throw e;
    }
  }

  /**
   * A typed event for the account-wide endpoint. The API call that caused it has already
   * succeeded, so a failure to queue is reported, never thrown. `eventId` makes a resumed job's
   * second emit of the same event a duplicate the receiver (and our log) can recognise.
   */
  async emit(type: FileEventType, data: Record<string, unknown>, eventId: string = randomUUID(), opts: { resend?: boolean } = {}): Promise<void> {
    if (!this.opts.accountUrl) return;
    try {
      await this.enqueue(this.opts.accountUrl, eventId, type, { id: eventId, type, created_at: new Date(this.clock()).toISOString(), data }, opts);
    } catch (e) {
      this.opts.onError?.(e);
    }
  }

  /**
   * An upload pre-/post-transformation event: to the account-wide endpoint and to the upload's
   * own `webhookUrl` when it gave one, the same body (and id) to each. Never throws.
   */
  async emitUploadEvent(
    type: UploadTransformEventType,
    request: Record<string, unknown>,
    data: Record<string, unknown>,
    eventId: string,
    webhookUrl: string | null,
    opts: { resend?: boolean } = {},
  ): Promise<void> {
    const urls = [...new Set([this.opts.accountUrl, webhookUrl].filter((u): u is string => typeof u === 'string' && u !== ''))];
    if (urls.length === 0) return;
    const body = { id: eventId, type, created_at: new Date(this.clock()).toISOString(), request, data };
    for (const url of urls) {
      try {
        await this.enqueue(url, eventId, type, body, opts);
      } catch (e) {
        this.opts.onError?.(e);
      }
    }
  }

  private async deliver(ctx: JobContext<WebhookJobParams, Record<string, never>>): Promise<void> {
    const p = ctx.job.params;
    if (await this.log.delivered(p.eventId, p.url)) return;
    // Signed per attempt: receivers refuse timestamps more than a few minutes old.
    const at = new Date(this.clock());
    const headers = { 'content-type': 'application/json', ...webhookSignatureHeaders(this.opts.secret, p.eventId, at, p.body) };
    const started = Date.now();
    let status: number | null = null;
    let error: string | null = null;
    let refused = false;
    try {
      status = (await this.transport.post(p.url, p.body, headers, ctx.signal)).status;
      if (status < 200 || status > 299) error = `The receiver answered with status ${status}.`;
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new JobStoppedError('stopping');
      refused = e instanceof WebhookRefusedError;
      error = e instanceof Error ? e.message : String(e);
    }
    await this.log.record({
      id: newId(),
      eventId: p.eventId,
      eventType: p.eventType,
      url: p.url,
      attempt: ctx.job.attempts,
      statusCode: status,
      error,
      durationMs: Date.now() - started,
      createdAt: new Date(this.clock()).toISOString(),
    });
    if (error === null) return;
    if (refused) throw new PermanentJobError(error);
    throw new Error(error);
  }
}

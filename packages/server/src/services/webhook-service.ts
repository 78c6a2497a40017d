import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { JobStoppedError, PermanentJobError, jobType, type JobContext, type JobQueue } from '../ports/job-queue.js';
import type { WebhookLog } from '../ports/webhook-log.js';
import { WebhookRefusedError, type WebhookTransport } from '../ports/webhook-transport.js';
import { newId } from '../util/ids.js';

/**
 * Outbound webhooks. Two kinds of message:
 * - the spec's typed events (`{id, type, created_at, data}`: file.created, file.updated,
 *   file.deleted, file-version.created, file-version.deleted) go to the account-wide endpoint
 *   from the settings;
 * - the final status of an extension (`{service, status: SUCCESS|FAILURE, fileObject | fileId +
 *   error}`, ImageKit's documented payload) goes to the `webhookUrl` of the request that asked for
 *   the extension.
 *
 * Every delivery is a job on the durable queue, so it survives a restart and failed attempts are
 * retried with the queue's backoff; each attempt is written to the delivery log, and an event that
 * already reached a URL is never sent there again. Requests are signed as Standard Webhooks
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "id.timestamp.body">`), the scheme `@imagekit/nodejs`'s `webhooks.unwrap(body, {headers, key})`
 * verifies. That SDK uses the UTF-8 bytes of the secret string it is given as the HMAC key, so the
 * key here is the configured secret's bytes as they are (a `whsec_` prefix included).
 */

export type FileEventType = 'file.created' | 'file.updated' | 'file.deleted' | 'file-version.created' | 'file-version.deleted';

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
    this.queue.register(WEBHOOK_DELIVERY, (ctx) => this.deliver(ctx));
  }

  /** Queues delivery of `body` to `url`; the event id doubles as the `webhook-id` header. */
  async enqueue(url: string, eventId: string, eventType: string, body: unknown): Promise<void> {
    await this.queue.enqueue(WEBHOOK_DELIVERY, { eventId, eventType, url, body: JSON.stringify(body) });
  }

  /**
   * A typed event for the account-wide endpoint. The API call that caused it has already
   * succeeded, so a failure to queue is reported, never thrown. `eventId` makes a resumed job's
   * second emit of the same event a duplicate the receiver (and our log) can recognise.
   */
  async emit(type: FileEventType, data: Record<string, unknown>, eventId: string = randomUUID()): Promise<void> {
    if (!this.opts.accountUrl) return;
    try {
      await this.enqueue(this.opts.accountUrl, eventId, type, { id: eventId, type, created_at: new Date(this.clock()).toISOString(), data });
    } catch (e) {
      this.opts.onError?.(e);
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

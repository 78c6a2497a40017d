/** The webhook delivery log: one entry per attempt to POST one event to one URL. */
export interface WebhookDeliveryRecord {
  id: string;
  eventId: string;
  eventType: string;
  url: string;
  /** 1 for the first try, counting every retry. */
  attempt: number;
  /** The receiver's HTTP status; null when no answer came (refused address, timeout, network). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  createdAt: string;
}

export interface WebhookLog {
  record(rec: WebhookDeliveryRecord): Promise<void>;
  /** Whether this event already reached this URL with a 2xx answer. */
  delivered(eventId: string, url: string): Promise<boolean>;
  /** Attempts, oldest first; of one event when eventId is given, else the most recent `limit`. */
  list(opts: { eventId?: string; limit?: number }): Promise<WebhookDeliveryRecord[]>;
}

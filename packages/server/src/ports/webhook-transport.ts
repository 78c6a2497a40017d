/** Sends one webhook request. Implementations enforce the outbound address rules. */
export interface WebhookTransport {
  /**
   * POSTs `body` to `url` with `headers`, resolving with the receiver's status (any status: the
   * caller judges it). Rejects with a WebhookRefusedError when the URL may never be called (bad
   * scheme, non-public address), and with another Error when no answer came (network, timeout).
   */
  post(url: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<{ status: number }>;
}

/** The URL is not one this server may call; retrying cannot help. */
export class WebhookRefusedError extends Error {
  override name = 'WebhookRefusedError';
}

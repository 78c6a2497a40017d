export interface InvalidationCreateRequest {
  /** Full URL to purge; a trailing `*` purges a prefix. */
  url: string;
}

export interface InvalidationCreateResponse {
  /** Poll it with `client.cache.invalidation.get(requestId)`. */
  requestId?: string;
}

export interface InvalidationGetResponse {
  status?: 'Pending' | 'Completed';
}

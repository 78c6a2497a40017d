import type { QueryParamValue } from '../core/request-options.js';

/** Serialises query parameters; later sources override earlier ones key by key. */
export function buildQuery(...sources: Array<Record<string, QueryParamValue> | undefined>): string {
  const merged = new Map<string, QueryParamValue>();
  for (const src of sources) {
    if (!src) continue;
    for (const [k, v] of Object.entries(src)) merged.set(k, v);
  }
  const params = new URLSearchParams();
  for (const [k, v] of merged) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, String(item));
    else params.append(k, String(v));
  }
  return params.toString();
}

import type { HeaderValues } from '../core/request-options.js';

/** Merges header maps case-insensitively; later maps win and `null` deletes. */
export function mergeHeaders(...sources: Array<HeaderValues | undefined>): Headers {
  const out = new Headers();
  for (const src of sources) {
    if (!src) continue;
    for (const [k, v] of Object.entries(src)) {
      if (v === null) out.delete(k);
      else if (v !== undefined) out.set(k, v);
    }
  }
  return out;
}

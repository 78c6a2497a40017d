// Runtime probes without importing anything Node-specific, so the same build loads in browsers.

interface ProcessLike {
  env?: Record<string, string | undefined>;
  versions?: { node?: string };
  version?: string;
}

function processLike(): ProcessLike | undefined {
  const p = (globalThis as { process?: unknown }).process;
  return typeof p === 'object' && p !== null ? (p as ProcessLike) : undefined;
}

/** An environment variable when running under Node (or a bundler that defines process.env). */
export function readEnv(name: string): string | undefined {
  const v = processLike()?.env?.[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** A User-Agent value in Node; undefined in browsers, which forbid setting it. */
export function nodeUserAgent(sdkVersion: string): string | undefined {
  const p = processLike();
  if (!p?.versions?.node || typeof (globalThis as { window?: unknown }).window !== 'undefined') return undefined;
  return `tessera-sdk/${sdkVersion} node/${p.version ?? p.versions.node}`;
}

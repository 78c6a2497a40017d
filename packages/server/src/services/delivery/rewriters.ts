import type { UrlRewriter } from '../../ports/account-store.js';
import type { QueryPair } from './request.js';
import { safeDecode } from './request.js';

/**
 * URL rewriters: an endpoint with a rewriter accepts URLs written in another service's syntax
 * and translates them into an ImageKit transformation, following ImageKit's published tables
 * (Cloudinary: transformation path segments; Imgix and Akamai: query parameters). As documented,
 * a known key with a value that cannot be translated is silently dropped; anything unknown
 * leaves the URL as it is.
 */

export interface Rewritten {
  /** What follows the endpoint, raw, with the foreign transformation removed. */
  rawRemaining: string;
  /** The translated transformation ('' when none); chained after one written in ImageKit syntax. */
  tr: string;
  /** The query with translated parameters removed. */
  query: QueryPair[];
}

export function rewriteUrl(rewriter: UrlRewriter | null, rawRemaining: string, query: QueryPair[]): Rewritten {
  if (!rewriter) return { rawRemaining, tr: '', query };
  switch (rewriter.type) {
    case 'CLOUDINARY':
      return cloudinary(rawRemaining, query, rewriter.preserveAssetDeliveryTypes);
    case 'IMGIX':
      return fromQuery(query, IMGIX, rawRemaining);
    case 'AKAMAI':
      return fromQuery(query, AKAMAI, rawRemaining);
  }
}

// ---------------------------------------------------------------------------------------------
// Colours: names stay names (lowercase); rgb:RGB[A] / RRGGBB[AA] → hex with ImageKit's 00–99 alpha.

function color(v: string): string | undefined {
  const s = v.startsWith('rgb:') ? v.slice(4) : v;
  if (/^[a-z]+$/i.test(s) && !/^[0-9a-f]{3,8}$/i.test(s)) return s.toLowerCase();
  let hex = s.toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) return undefined;
  if (hex.length === 3 || hex.length === 4) hex = [...hex].map((c) => c + c).join('');
  if (hex.length === 6) return hex;
  if (hex.length === 8) {
    const alpha = Math.round((parseInt(hex.slice(6), 16) / 255) * 99);
    return hex.slice(0, 6) + String(alpha).padStart(2, '0');
  }
  return undefined;
}

/** Imgix writes alpha first (ARGB / AARRGGBB). */
function argb(v: string): string | undefined {
  if (/^[0-9a-f]{4}$/i.test(v)) return color(v.slice(1) + v[0]);
  if (/^[0-9a-f]{8}$/i.test(v)) return color(v.slice(2) + v.slice(0, 2));
  return color(v);
}

const num = (v: string): string | undefined => (/^\d+(\.\d+)?$/.test(v) ? String(Number(v)) : undefined);
const int = (v: string): string | undefined => (/^\d+$/.test(v) ? String(Number(v)) : undefined);

// ---------------------------------------------------------------------------------------------
// Cloudinary: `key_value` parameters, comma-separated, one path segment per chained step.

const GRAVITY: Record<string, string> = {
  north: 'top',
  south: 'bottom',
  east: 'right',
  west: 'left',
  north_west: 'top_left',
  north_east: 'top_right',
  south_east: 'bottom_right',
  south_west: 'bottom_left',
  center: 'center',
  auto: 'auto',
  custom: 'custom',
  face: 'face',
};
const CROP: Record<string, string> = {
  crop: 'cm-extract',
  fill: 'c-maintain_ratio',
  fit: 'c-at_max',
  pad: 'cm-pad_resize',
  scale: 'c-force',
};
const QUALITY: Record<string, string> = { auto: '70', 'auto:low': '50', 'auto:eco': '60', 'auto:good': '70', 'auto:best': '86' };
const FORMATS = new Set(['auto', 'jpg', 'jpeg', 'png', 'webp', 'gif', 'avif']);

type Translate = (v: string) => string | undefined | null;

/** Each translator returns ImageKit parameters, undefined to drop an untranslatable value. */
const CLOUDINARY: Record<string, Translate> = {
  w: (v) => (num(v) ? `w-${num(v)}` : undefined),
  h: (v) => (num(v) ? `h-${num(v)}` : undefined),
  ar: (v) => {
    const m = /^(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(v);
    return m ? `ar-${m[1]}-${m[2] ?? '1'}` : undefined;
  },
  g: (v) => (GRAVITY[v] ? `fo-${GRAVITY[v]}` : undefined),
  x: (v) => (int(v) ? `x-${int(v)}` : undefined),
  y: (v) => (int(v) ? `y-${int(v)}` : undefined),
  f: (v) => (FORMATS.has(v) ? `f-${v === 'jpeg' ? 'jpg' : v}` : undefined),
  q: (v) => QUALITY[v] !== undefined ? `q-${QUALITY[v]}` : int(v) ? `q-${int(v)}` : undefined,
  a: (v) => {
    const m = /^(-)?(\d+)$/.exec(v);
    return m ? `rt-${m[1] ? 'N' : ''}${m[2]}` : undefined;
  },
  r: (v) => (v === 'max' ? 'r-max' : /^\d+(:\d+)*$/.test(v) ? `r-${v.split(':')[0]}` : undefined),
  e: (v) => {
    const [name, arg] = v.split(':', 2) as [string, string | undefined];
    switch (name) {
      case 'blur':
        return `bl-${arg ? Math.max(1, Math.min(100, Math.round(Number(arg) / 100))) : 1}`;
      case 'grayscale':
        return 'e-grayscale';
      case 'contrast':
        return 'e-contrast';
      case 'sharpen':
        return arg ? `e-sharpen-${Math.round(Number(arg) / 100)}` : 'e-sharpen';
      case 'unsharp_mask':
        return `e-usm-0-${arg ? Number(arg) / 100 : 1}-1-0.05`;
      case 'trim':
        return arg && int(arg) ? `t-${int(arg)}` : 't-true';
      default:
        return undefined;
    }
  },
  bo: (v) => {
    const m = /^(\d+)px_solid_(.+)$/.exec(v);
    const c = m ? color(m[2] as string) : undefined;
    return m && c ? `b-${m[1]}_${c}` : undefined;
  },
  b: (v) => (color(v) ? `bg-${color(v)}` : undefined),
  dpr: (v) => (num(v) ? `dpr-${num(v)}` : undefined),
  c: (v) => CROP[v],
  t: (v) => (/^[A-Za-z0-9_.-]+$/.test(v) ? `n-${v}` : undefined),
  fl: (v) => (v === 'progressive' || v.startsWith('progressive:') ? (v === 'progressive:none' ? 'pr-false' : 'pr-true') : undefined),
  so: (v) => (num(v) ? `so-${Math.round(Number(v) * 100) / 100}` : undefined),
  eo: (v) => (num(v) ? `eo-${Math.round(Number(v) * 100) / 100}` : undefined),
  du: (v) => (num(v) ? `du-${Math.round(Number(v) * 100) / 100}` : undefined),
};

/** A Cloudinary transformation segment → one ImageKit step; null when the segment is not one. */
function cloudinaryStep(segment: string): string | null {
  const tokens = safeDecode(segment).split(',');
  const out: string[] = [];
  for (const t of tokens) {
    const us = t.indexOf('_');
    if (us <= 0) return null;
    const fn = CLOUDINARY[t.slice(0, us)];
    if (!fn) return null;
    const v = fn(t.slice(us + 1));
    if (v) out.push(v);
  }
  return out.join(',');
}

const ASSET_TYPES = new Set(['image', 'video', 'raw']);
const DELIVERY_TYPES = new Set(['upload', 'private', 'authenticated', 'fetch', 'list', 'facebook', 'twitter', 'gravatar']);

function cloudinary(rawRemaining: string, query: QueryPair[], preserveTypes: boolean): Rewritten {
  const segments = rawRemaining.replace(/^\//, '').split('/');
  const kept: string[] = [];
  let i = 0;
  if (segments.length > 2 && ASSET_TYPES.has(segments[0] as string) && DELIVERY_TYPES.has(segments[1] as string)) {
    if (preserveTypes) kept.push(segments[0] as string, segments[1] as string);
    i = 2;
  }
  const steps: string[] = [];
  // The last segment is always the file name.
  while (i < segments.length - 1) {
    const step = cloudinaryStep(segments[i] as string);
    if (step === null) break;
    if (step !== '') steps.push(step);
    i++;
  }
  // A version segment (v1612345678) after the transformations is Cloudinary's cache-buster.
  if (i < segments.length - 1 && /^v\d+$/.test(segments[i] as string)) i++;
  const rest = [...kept, ...segments.slice(i)];
  return { rawRemaining: `/${rest.join('/')}`, tr: steps.join(':'), query };
}

// ---------------------------------------------------------------------------------------------
// Imgix and Akamai: query parameters → one step.

type QueryTable = Record<string, (v: string, all: Map<string, string>) => string | undefined>;

const IMGIX_FIT: Record<string, string | null> = {
  clip: 'c-at_max_enlarge',
  fill: 'cm-pad_resize',
  fillmax: 'cm-pad_resize',
  scale: 'c-force',
  crop: null,
  max: 'c-at_max',
  facearea: 'fo-face',
};
const IMGIX_FORMAT: Record<string, string> = { jpeg: 'jpg', jpg: 'jpg', jp2: 'jpg', png: 'png', webp: 'webp', gif: 'gif', avif: 'avif', png8: 'png', png32: 'png' };
const IMGIX_ORIENT: Record<string, string> = { '0': '0', '1': '0', '3': '180', '6': '90', '8': '270', '90': '90', '180': '180', '270': '270' };

function imgixCrop(v: string): string | undefined {
  const parts = v.split(',').map((p) => p.trim());
  if (parts.includes('faces')) return 'fo-auto';
  const vert = parts.find((p) => p === 'top' || p === 'bottom');
  const horiz = parts.find((p) => p === 'left' || p === 'right');
  if (vert && horiz) return `fo-${vert}_${horiz}`;
  if (vert || horiz) return `fo-${vert ?? horiz}`;
  return undefined;
}

const IMGIX: QueryTable = {
  w: (v) => (num(v) ? `w-${num(v)}` : undefined),
  h: (v) => (num(v) ? `h-${num(v)}` : undefined),
  ar: (v) => {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(v);
    return m ? `ar-${m[1]}-${m[2]}` : undefined;
  },
  crop: imgixCrop,
  fit: (v) => IMGIX_FIT[v] ?? undefined,
  fm: (v) => (IMGIX_FORMAT[v] ? `f-${IMGIX_FORMAT[v]}` : undefined),
  q: (v) => (int(v) ? `q-${int(v)}` : undefined),
  orient: (v) => (IMGIX_ORIENT[v] !== undefined ? `rt-${IMGIX_ORIENT[v]}` : undefined),
  'fill-color': (v) => (argb(v) ? `bg-${argb(v)}` : undefined),
  bg: (v) => (argb(v) ? `bg-${argb(v)}` : undefined),
  dpr: (v) => (num(v) ? `dpr-${num(v)}` : undefined),
  sharp: (v) => (num(v) ? `e-sharpen-${Math.round(Number(v) * 20)}` : undefined),
  con: (v) => (/^-?\d+$/.test(v) ? 'e-contrast' : undefined),
  usm: (v, all) => {
    if (!/^-?\d+(\.\d+)?$/.test(v)) return undefined;
    const radius = all.get('usmrad') && num(all.get('usmrad') as string) ? Number(all.get('usmrad')) : 2.5;
    const amount = Math.max(0, Number(v) / 5);
    return `e-usm-${radius}-${amount.toFixed(2)}-1-0.05`;
  },
  usmrad: () => undefined,
  blur: (v) => (num(v) ? `bl-${Math.max(1, Math.min(100, Number((Number(v) / 20).toFixed(2))))}` : undefined),
  trim: (v) => (v === 'auto' || v === 'color' ? 't-true' : undefined),
};

const AKAMAI: QueryTable = {
  imwidth: (v) => (num(v) ? `w-${num(v)}` : undefined),
  imheight: (v) => (num(v) ? `h-${num(v)}` : undefined),
};

function fromQuery(query: QueryPair[], table: QueryTable, rawRemaining: string): Rewritten {
  const all = new Map(query.map((p) => [p.name, safeDecode(p.value.replace(/\+/g, ' '))]));
  const params: string[] = [];
  const rest: QueryPair[] = [];
  for (const p of query) {
    const fn = table[p.name];
    if (!fn) {
      rest.push(p);
      continue;
    }
    const v = fn(all.get(p.name) ?? '', all);
    if (v) params.push(v);
  }
  return { rawRemaining, tr: params.join(','), query: rest };
}

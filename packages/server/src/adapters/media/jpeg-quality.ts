import { open } from 'node:fs/promises';

/**
 * JPEG quality, estimated from the quantisation tables (DQT segments) the encoder wrote.
 *
 * Method: almost every encoder (libjpeg, libjpeg-turbo, mozjpeg in its default mode, sharp, GIMP,
 * ImageMagick …) derives its tables from the two example tables of ITU-T T.81 Annex K, scaled by a
 * quality factor q with the IJG formula: scale = q < 50 ? 5000 / q : 200 - 2q, entry =
 * (base × scale + 50) / 100 in integer arithmetic, clamped to 1..255 for baseline files. For
 * each q in 1..100 we build those tables and measure the total absolute difference to the file's
 * luminance table (table 0) and, when present, chrominance table (table 1); the q with the
 * smallest difference is the estimate (exact for IJG-family encoders). Tables from encoders with
 * their own tables (some cameras) get the nearest IJG quality, which is what the usual
 * estimators (ImageMagick's identify, jpeginfo) report as well.
 */

/** Annex K, Table K.1 (luminance), in natural row-major order. */
const LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100,
  103, 99,
];

/** Annex K, Table K.2 (chrominance), in natural row-major order: 99 outside the top-left corner. */
const CHROMA = (() => {
  const corner = [
    [17, 18, 24, 47],
    [18, 21, 26, 66],
    [24, 26, 56, 99],
    [47, 66, 99, 99],
  ];
  const t: number[] = [];
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) t.push(r < 4 && c < 4 ? corner[r]![c]! : 99);
  return t;
})();

/** DQT stores coefficients in zig-zag order; ZIGZAG[k] is the natural index of the k-th one. */
const ZIGZAG = (() => {
  const order: number[] = [];
  for (let s = 0; s < 15; s++) {
    // Anti-diagonal s (row + col = s), walked up-right on even s and down-left on odd s.
    const cells: number[] = [];
    for (let r = 0; r < 8; r++) {
      const c = s - r;
      if (c >= 0 && c < 8) cells.push(r * 8 + c);
    }
    order.push(...(s % 2 === 0 ? cells.reverse() : cells));
  }
  return order;
})();

/** The table libjpeg's jpeg_set_quality(q, force_baseline = true) writes for a base table. */
export function ijgTable(base: readonly number[], quality: number): number[] {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - q * 2;
  return base.map((b) => Math.min(255, Math.max(1, Math.floor((b * scale + 50) / 100))));
}

export const IJG_LUMINANCE: readonly number[] = LUMA;
export const IJG_CHROMINANCE: readonly number[] = CHROMA;

/** Quantisation tables by id (0..3), each 64 entries in natural order. */
export type QuantTables = Map<number, number[]>;

function parseDqt(seg: Buffer, into: QuantTables): void {
  let p = 0;
  while (p < seg.length) {
    const precision = seg[p]! >> 4; // 0: 8-bit entries, 1: 16-bit
    const id = seg[p]! & 0x0f;
    p++;
    const size = precision === 0 ? 64 : 128;
    if (p + size > seg.length || id > 3) return;
    const natural = new Array<number>(64).fill(0);
    for (let k = 0; k < 64; k++) {
      natural[ZIGZAG[k]!] = precision === 0 ? seg[p + k]! : seg.readUInt16BE(p + k * 2);
    }
    into.set(id, natural);
    p += size;
  }
}

/** Reads only the markers before the first scan, segment by segment, never the image data. */
export async function readQuantTables(path: string, maxHeaderBytes = 4 * 1024 * 1024): Promise<QuantTables> {
  const h = await open(path, 'r');
  try {
    const tables: QuantTables = new Map();
    const head = Buffer.alloc(4);
    let { bytesRead } = await h.read(head, 0, 2, 0);
    if (bytesRead < 2 || head[0] !== 0xff || head[1] !== 0xd8) return tables;
    let pos = 2;
    while (pos < maxHeaderBytes) {
      ({ bytesRead } = await h.read(head, 0, 4, pos));
      if (bytesRead < 2 || head[0] !== 0xff) break;
      const marker = head.readUInt8(1);
      if (marker === 0xff) {
        pos++; // fill byte
        continue;
      }
      if (marker === 0xd9 || marker === 0xda) break;
      if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        pos += 2;
        continue;
      }
      if (bytesRead < 4) break;
      const len = head.readUInt16BE(2);
      if (len < 2) break;
      if (marker === 0xdb) {
        const seg = Buffer.alloc(len - 2);
        const r = await h.read(seg, 0, seg.length, pos + 4);
        if (r.bytesRead < seg.length) break;
        parseDqt(seg, tables);
      }
      pos += 2 + len;
    }
    return tables;
  } finally {
    await h.close();
  }
}

/** The IJG quality (1..100) whose tables are closest to these; null without a luminance table. */
export function estimateQuality(tables: QuantTables): number | null {
  const luma = tables.get(0);
  if (!luma) return null;
  const chroma = tables.get(1);
  let best: number | null = null;
  let bestErr = Infinity;
  for (let q = 1; q <= 100; q++) {
    let err = distance(luma, ijgTable(LUMA, q));
    if (chroma) err += distance(chroma, ijgTable(CHROMA, q));
    // `<=`: on a tie the higher quality wins (at the top end several q share clamped entries).
    if (err <= bestErr) {
      bestErr = err;
      best = q;
    }
  }
  return best;
}

function distance(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < 64; i++) d += Math.abs(a[i]! - b[i]!);
  return d;
}

/** Estimated quality of a JPEG file, or null when it has no readable tables. */
export async function estimateJpegQuality(path: string): Promise<number | null> {
  return estimateQuality(await readQuantTables(path));
}

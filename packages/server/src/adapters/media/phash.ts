import sharp from 'sharp';

/**
 * The 64-bit DCT perceptual hash (the pHash.org construction), as 16 lowercase hex characters.
 *
 * 1. Decode, apply the EXIF orientation, flatten any alpha onto white, convert to one grey
 *    channel and resize to 32×32 ignoring the aspect ratio (sharp's resampling is the low-pass
 *    filter that removes detail finer than the hash can see).
 * 2. Take the 2-D DCT-II of the 32×32 block.
 * 3. Keep the 8×8 block of the lowest frequencies after dropping row 0 and column 0: the DC term
 *    (overall brightness) and the pure horizontal/vertical ramps carry little about the content
 *    and would dominate the median.
 * 4. Each of the 64 coefficients becomes one bit: 1 above the median of the 64, else 0, in
 *    row-major order, most significant bit first.
 *
 * Two hashes are compared by Hamming distance (0..64); ImageKit documents the same use.
 */

const N = 32;
const K = 8;

/** cos((2x + 1)uπ / 2N) for u in 1..K, x in 0..N-1 (the DCT-II basis; constant factors dropped). */
const BASIS: Float64Array[] = Array.from({ length: K }, (_, i) => {
  const u = i + 1;
  const row = new Float64Array(N);
  for (let x = 0; x < N; x++) row[x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
  return row;
});

/** The hash of 32×32 grey pixels (row-major, one byte each). */
export function phashOfPixels(pixels: Uint8Array | Float64Array): string {
  if (pixels.length !== N * N) throw new Error(`phash needs ${N * N} pixels, got ${pixels.length}`);
  // Separable DCT: first along each row (horizontal frequency v), then down the columns (u).
  const rows = new Float64Array(N * K); // rows[y * K + v]
  for (let y = 0; y < N; y++) {
    for (let v = 0; v < K; v++) {
      const b = BASIS[v]!;
      let s = 0;
      for (let x = 0; x < N; x++) s += pixels[y * N + x]! * b[x]!;
      rows[y * K + v] = s;
    }
  }
  const coeffs = new Float64Array(K * K); // coeffs[u * K + v]
  for (let u = 0; u < K; u++) {
    const b = BASIS[u]!;
    for (let v = 0; v < K; v++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += b[y]! * rows[y * K + v]!;
      coeffs[u * K + v] = s;
    }
  }
  const sorted = Float64Array.from(coeffs).sort();
  const median = (sorted[K * K / 2 - 1]! + sorted[K * K / 2]!) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let n = 0;
    for (let b = 0; b < 4; b++) n = (n << 1) | (coeffs[nibble * 4 + b]! > median ? 1 : 0);
    hex += n.toString(16);
  }
  return hex;
}

/** The pHash of an image file (first frame of animations). */
export async function phashOfFile(path: string, limitInputPixels: number): Promise<string> {
  const { data, info } = await sharp(path, { limitInputPixels, sequentialRead: true })
    .rotate()
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(N, N, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const ch = info.channels;
  const grey = new Uint8Array(N * N);
  for (let i = 0; i < N * N; i++) grey[i] = data[i * ch]!;
  return phashOfPixels(grey);
}

/** Number of differing bits between two 16-hex-character hashes. */
export function phashDistance(a: string, b: string): number {
  if (!/^[0-9a-f]{16}$/i.test(a) || !/^[0-9a-f]{16}$/i.test(b)) throw new Error('pHash values are 16 hex characters');
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let d = 0;
  while (x > 0n) {
    d += Number(x & 1n);
    x >>= 1n;
  }
  return d;
}

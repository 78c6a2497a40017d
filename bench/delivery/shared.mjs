// What the delivery benches share (run.mjs, hit-cpu, render-cpu, miss-cpu): the photo of scenario (a), a
// 2725×2225 JPEG (q85) of smooth colour fields, edges and fine noise, the same bytes every run; uploading
// it to a server; and a free port.
import { createServer } from 'node:net';
import sharp from 'sharp';

/** Writes the photo to `path`. */
export async function makePhoto(path) {
  const w = 2725;
  const h = 2225;
  const raw = Buffer.alloc(w * h * 3);
  let seed = 7;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = (seed >> 16) % 24;
      const i = (y * w + x) * 3;
      const band = Math.floor(x / 340) + Math.floor(y / 280);
      raw[i] = (128 + 100 * Math.sin(x / 210 + band) + n) & 255;
      raw[i + 1] = (128 + 90 * Math.cos(y / 170 - band / 2) + n) & 255;
      raw[i + 2] = (((x * y) >> 12) + 60 * Math.sin((x + y) / 90) + 100 + n) & 255;
    }
  }
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).blur(0.6).jpeg({ quality: 85 }).toFile(path);
}

/** Uploads `bytes` as /photo.jpg (replacing any earlier one) to the server at `base`. */
export async function uploadPhoto(base, privateKey, bytes) {
  const fd = new FormData();
  fd.append('file', new Blob([bytes]), 'photo.jpg');
  fd.append('fileName', 'photo.jpg');
  fd.append('useUniqueFileName', 'false');
  const r = await fetch(`${base}/api/v1/files/upload`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${privateKey}:`).toString('base64')}` },
    body: fd,
  });
  if (r.status !== 200) throw new Error(`upload failed: ${r.status} ${await r.text()}`);
}

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

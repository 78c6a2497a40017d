/**
 * Real sample media made at test time: JPEGs with EXIF/GPS, IPTC and XMP written by sharp (IPTC
 * as an APP13 segment built here), a PNG with alpha, a CMYK JPEG with an ICC profile, and an MP4
 * and an MP3 encoded by the ffmpeg binary that ships in the @ffmpeg-installer npm package.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';

const run = promisify(execFile);

/** The ffmpeg of @ffmpeg-installer/ffmpeg (a devDependency; a static build inside the package). */
export function ffmpegPath(): string {
  return (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

/**
 * A synthetic scene rendered from SVG: a gradient and 40 overlapping shapes of many sizes, laid
 * out by a PRNG seeded with `seed` — spectrally closer to a photo than a few flat shapes.
 */
export function scene(seed: number, width = 640, height = 480): Sharp {
  let state = (seed + 1) * 0x9e3779b1;
  const rnd = () => {
    // xorshift32
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  const colour = () => `rgb(${Math.floor(rnd() * 256)},${Math.floor(rnd() * 256)},${Math.floor(rnd() * 256)})`;
  const shapes: string[] = [];
  for (let i = 0; i < 40; i++) {
    const x = Math.round(rnd() * 640);
    const y = Math.round(rnd() * 480);
    const size = Math.round(20 + rnd() * rnd() * 260);
    const opacity = (0.4 + rnd() * 0.6).toFixed(2);
    shapes.push(
      rnd() < 0.5
        ? `<ellipse cx="${x}" cy="${y}" rx="${size}" ry="${Math.round(size * (0.3 + rnd()))}" fill="${colour()}" fill-opacity="${opacity}"/>`
        : `<rect x="${x - size / 2}" y="${y - size / 3}" width="${size}" height="${Math.round(size * (0.3 + rnd()))}" fill="${colour()}" fill-opacity="${opacity}" transform="rotate(${Math.round(rnd() * 90)} ${x} ${y})"/>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480" viewBox="0 0 640 480">
    <defs><linearGradient id="g" x1="0" y1="0" x2="${rnd().toFixed(2)}" y2="1"><stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient></defs>
    <rect width="640" height="480" fill="url(#g)"/>${shapes.join('')}</svg>`;
  return sharp(Buffer.from(svg)).resize(width, height, { fit: 'fill' });
}

/** GPS: 51°30'0" N, 0°7'39.6" W (51.5, -0.1276667), 123.4 m above sea level. */
export const GPS = { lat: 51.5, lon: -(7 / 60 + 39.6 / 3600), altitude: 123.4 };

/** 320×240 JPEG at quality 75 with EXIF (IFD0, Exif IFD) and GPS written by sharp. */
export async function jpegWithExif(quality = 75): Promise<Buffer> {
  return scene(0, 320, 240)
    .jpeg({ quality })
    .withExif({
      IFD0: { Make: 'Tessera', Model: 'TestCam 1', Artist: 'Ada Lovelace', Copyright: 'CC0', Software: 'sharp' },
      IFD2: { DateTimeOriginal: '2021:03:04 05:06:07', ExposureTime: '1/125', FNumber: '28/10', ISOSpeedRatings: '200' },
      IFD3: {
        GPSVersionID: '2 2 0 0',
        GPSLatitudeRef: 'N',
        GPSLatitude: '51/1 30/1 0/1',
        GPSLongitudeRef: 'W',
        GPSLongitude: '0/1 7/1 3960/100',
        GPSAltitudeRef: '0',
        GPSAltitude: '1234/10',
      },
    })
    .toBuffer();
}

export const XMP_PACKET = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
  xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
  photoshop:City="Lisbon" photoshop:DateCreated="2019-10-16" xmp:Rating="3">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">The Title</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>Creator One</rdf:li></rdf:Seq></dc:creator>
<dc:subject><rdf:Bag><rdf:li>alpha</rdf:li><rdf:li>beta</rdf:li></rdf:Bag></dc:subject>
<Iptc4xmpCore:CreatorContactInfo rdf:parseType="Resource"><Iptc4xmpCore:CiAdrCity>Porto</Iptc4xmpCore:CiAdrCity>
  <Iptc4xmpCore:CiEmailWork>ada@example.org</Iptc4xmpCore:CiEmailWork></Iptc4xmpCore:CreatorContactInfo>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

/** IPTC IIM record 2 datasets, in an APP13 "Photoshop 3.0" resource block (id 0x0404). */
function app13(datasets: Array<[number, string | Buffer]>): Buffer {
  const iim = Buffer.concat(
    datasets.map(([n, v]) => {
      const data = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
      const head = Buffer.from([0x1c, 2, n, 0, 0]);
      head.writeUInt16BE(data.length, 3);
      return Buffer.concat([head, data]);
    }),
  );
  const size = Buffer.alloc(4);
  size.writeUInt32BE(iim.length);
  const resource = Buffer.concat([Buffer.from('8BIM'), Buffer.from([0x04, 0x04, 0, 0]), size, iim, iim.length % 2 ? Buffer.from([0]) : Buffer.alloc(0)]);
  const payload = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource]);
  const marker = Buffer.from([0xff, 0xed, 0, 0]);
  marker.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([marker, payload]);
}

/** A JPEG with EXIF (sharp), XMP (sharp's withXmp) and IPTC IIM (APP13 placed after SOI). */
export async function jpegWithIptcAndXmp(): Promise<Buffer> {
  const jpeg = await scene(1, 200, 150)
    .jpeg({ quality: 85 })
    .withExif({ IFD0: { Make: 'Tessera', ImageDescription: 'From EXIF' } })
    .withXmp(XMP_PACKET)
    .toBuffer();
  const iptc = app13([
    [0, Buffer.from([0, 4])], // ApplicationRecordVersion 4
    [5, 'IPTC Title'],
    [25, 'kw-one'],
    [25, 'kw-two'],
    [55, '20191016'],
    [60, '190103+0000'],
    [80, 'IPTC Byline'],
    [90, 'Lisbon City'],
    [95, 'Lisboa'],
    [100, 'PRT'],
    [101, 'Portugal'],
    [120, 'A caption'],
    [122, 'The writer'],
  ]);
  return Buffer.concat([jpeg.subarray(0, 2), iptc, jpeg.subarray(2)]);
}

/** A PNG whose alpha channel really is transparent in places. */
export async function pngWithAlpha(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><circle cx="60" cy="40" r="30" fill="#ff0000"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A PNG with an alpha channel that is opaque everywhere. */
export async function pngOpaqueAlpha(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 1 } } }).png().toBuffer();
}

/** A CMYK JPEG carrying sharp's bundled CMYK ICC profile, at quality 80. */
export async function cmykJpegWithIcc(): Promise<Buffer> {
  return scene(2, 160, 120).withIccProfile('cmyk').toColourspace('cmyk').jpeg({ quality: 80 }).toBuffer();
}

async function ffmpeg(args: string[], ext: string): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ff-'));
  const out = join(dir, `out.${ext}`);
  try {
    await run(ffmpegPath(), ['-v', 'error', '-y', ...args, out], { timeout: 60_000 });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 2 s of 320×240 test pattern, H.264 + AAC, in MP4. */
export function mp4(): Promise<Buffer> {
  return ffmpeg(
    [
      '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
      '-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-shortest', '-movflags', '+faststart',
    ],
    'mp4',
  );
}

/** 3 s of a 440 Hz tone, MP3 at 128 kbit/s, with ID3 title and artist. */
export function mp3(): Promise<Buffer> {
  return ffmpeg(
    [
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
      '-t', '3', '-c:a', 'libmp3lame', '-b:a', '128k', '-metadata', 'title=Test Tone', '-metadata', 'artist=Tessera',
    ],
    'mp3',
  );
}

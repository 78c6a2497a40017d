/**
 * The media analysis on real files made here (see ../support/media-fixtures.ts): every field of
 * Metadata and embeddedMetadata against the values the fixture was written with.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { SharpMediaProbe } from '../../src/adapters/media/probe.js';
import { MediaAnalyzer, avFacts, consolidate } from '../../src/adapters/media/metadata.js';
import { IJG_CHROMINANCE, IJG_LUMINANCE, estimateJpegQuality, estimateQuality, ijgTable } from '../../src/adapters/media/jpeg-quality.js';
import { phashDistance, phashOfFile, phashOfPixels } from '../../src/adapters/media/phash.js';
import type { MediaAnalysis } from '../../src/ports/media-probe.js';
import {
  GPS,
  cmykJpegWithIcc,
  jpegWithExif,
  jpegWithIptcAndXmp,
  mp3,
  mp4,
  pngOpaqueAlpha,
  pngWithAlpha,
  scene,
} from '../support/media-fixtures.js';

let dir: string;
let n = 0;
const probe = new SharpMediaProbe();

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-meta-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function save(bytes: Buffer, ext: string): string {
  const p = join(dir, `f${n++}.${ext}`);
  writeFileSync(p, bytes);
  return p;
}

async function analyze(bytes: Buffer, name: string): Promise<MediaAnalysis & { fileType: string; mime: string }> {
  const path = save(bytes, name.split('.').pop()!);
  const probed = await probe.probe(path, name);
  const a = await probe.analyze(path, probed, bytes.length);
  return { ...a, fileType: probed.fileType, mime: probed.mime };
}

const HEX16 = /^[0-9a-f]{16}$/;

describe('JPEG with EXIF and GPS (sharp withExif, quality 75)', () => {
  let a: Awaited<ReturnType<typeof analyze>>;
  let bytes: Buffer;
  before(async () => {
    bytes = await jpegWithExif(75);
    a = await analyze(bytes, 'photo.jpg');
  });

  test('pixel facts', () => {
    const m = a.metadata;
    assert.equal(a.fileType, 'image');
    assert.equal(m.width, 320);
    assert.equal(m.height, 240);
    assert.equal(m.size, bytes.length);
    assert.equal(m.format, 'jpg');
    assert.equal(m.hasColorProfile, false);
    assert.equal(m.hasTransparency, false);
    assert.ok(Math.abs((m.quality as number) - 75) <= 2, `quality ${m.quality}`);
    assert.match(m.pHash as string, HEX16);
    assert.deepEqual(Object.keys(m), ['height', 'width', 'size', 'format', 'hasColorProfile', 'quality', 'density', 'hasTransparency', 'pHash', 'exif']);
    assert.equal(typeof m.density, 'number');
    assert.equal(a.av, null);
  });

  test('exif groups hold the raw values', () => {
    const exif = a.metadata.exif as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(exif).sort(), ['exif', 'gps', 'image', 'interoperability', 'makernote', 'thumbnail']);
    assert.equal(exif.image!.Make, 'Tessera');
    assert.equal(exif.image!.Model, 'TestCam 1');
    assert.equal(exif.image!.Artist, 'Ada Lovelace');
    assert.equal(exif.image!.Orientation, 1);
    assert.equal(typeof exif.image!.ExifOffset, 'number');
    assert.equal(typeof exif.image!.GPSInfo, 'number');
    assert.equal(exif.exif!.ExposureTime, 0.008);
    assert.equal(exif.exif!.FNumber, 2.8);
    assert.equal(exif.exif!.ISO, 200);
    assert.equal(exif.exif!.DateTimeOriginal, '2021:03:04 05:06:07');
    assert.match(exif.exif!.ExifVersion as string, /^\d{4}$/);
    assert.deepEqual(exif.gps!.GPSVersionID, [2, 2, 0, 0]);
    assert.equal(exif.gps!.GPSLatitudeRef, 'N');
    assert.deepEqual(exif.gps!.GPSLatitude, [51, 30, 0]);
    assert.equal(exif.gps!.GPSLongitudeRef, 'W');
    assert.deepEqual(exif.gps!.GPSLongitude, [0, 7, 39.6]);
    assert.equal(exif.gps!.GPSAltitudeRef, 0);
    assert.equal(exif.gps!.GPSAltitude, GPS.altitude);
    assert.equal('latitude' in exif.gps!, false);
    assert.deepEqual(exif.makernote, {});
  });

  test('embeddedMetadata: readable values under flat names', () => {
    const e = a.embeddedMetadata;
    assert.equal(e.Make, 'Tessera');
    assert.equal(e.Artist, 'Ada Lovelace');
    assert.equal(e.Copyright, 'CC0');
    assert.equal(e.Orientation, 'Horizontal (normal)');
    assert.equal(e.DateTimeOriginal, '2021-03-04T05:06:07.000Z');
    assert.equal(e.ISO, 200);
    assert.equal(e.FNumber, 2.8);
    assert.equal(e.GPSLatitudeRef, 'N');
    assert.ok(Math.abs((e.GPSLatitude as number) - GPS.lat) < 1e-6, String(e.GPSLatitude));
    assert.ok(Math.abs((e.GPSLongitude as number) - GPS.lon) < 1e-6, String(e.GPSLongitude));
    assert.equal(e.GPSVersionID, '2.2.0.0');
    assert.equal(e.ComponentsConfiguration, 'Y,Cb,Cr,-');
    assert.match(e.ExifVersion as string, /^\d{4}$/);
    assert.equal(e.ColorSpace, 'Uncalibrated');
    for (const v of Object.values(e)) assert.ok(!(v instanceof Uint8Array), 'no binary values');
  });
});

describe('IPTC and XMP consolidated with EXIF', () => {
  test('each source under exiftool-style names', async () => {
    const a = await analyze(await jpegWithIptcAndXmp(), 'iptc.jpg');
    const e = a.embeddedMetadata;
    // EXIF
    assert.equal(e.Make, 'Tessera');
    assert.equal(e.ImageDescription, 'From EXIF');
    // IPTC IIM
    assert.equal(e.ApplicationRecordVersion, 4);
    assert.equal(e.ObjectName, 'IPTC Title');
    assert.deepEqual(e.Keywords, ['kw-one', 'kw-two']);
    assert.equal(e.Byline, 'IPTC Byline');
    assert.equal(e.ProvinceState, 'Lisboa');
    assert.equal(e.CountryPrimaryLocationCode, 'PRT');
    assert.equal(e.CountryPrimaryLocationName, 'Portugal');
    assert.equal(e.CaptionAbstract, 'A caption');
    assert.equal(e.WriterEditor, 'The writer');
    assert.equal(e.DateCreated, '2019-10-16T00:00:00.000Z');
    assert.equal(e.TimeCreated, '19:01:03+00:00');
    // IPTC wins over XMP for City; XMP fills what IPTC lacks
    assert.equal(e.City, 'Lisbon City');
    assert.equal(e.Title, 'The Title');
    assert.equal(e.Creator, 'Creator One');
    assert.deepEqual(e.Subject, ['alpha', 'beta']);
    assert.equal(e.Rating, 3);
    assert.equal(e.CreatorCity, 'Porto');
    assert.equal(e.CreatorWorkEmail, 'ada@example.org');
    assert.equal('parseType' in e, false);
    assert.equal(a.metadata.quality, 85);
  });

  test('consolidate: EXIF over IPTC over XMP; structures flattened; dates normalised', () => {
    const out = consolidate(
      { ifd0: { Artist: 'exif', ModifyDate: '2020:01:02 03:04:05' }, iptc: { Byline: 'iptc', Writer: 'w', Keywords: 'solo' } },
      {
        dc: { creator: ['x1', 'x2'], rights: { lang: 'x-default', value: 'R' } },
        tiff: { Artist: 'xmp' },
        Iptc4xmpExt: { LocationShown: [{ City: 'A', CountryName: 'P' }, { City: 'B' }] },
        xmp: { CreateDate: '2019-10-16T19:01:03+02:00', ModifyDate: '2019-10-16' },
      },
    );
    assert.equal(out.Artist, 'exif');
    assert.equal(out.ModifyDate, '2020-01-02T03:04:05.000Z');
    assert.equal(out.Byline, 'iptc');
    assert.equal(out.WriterEditor, 'w');
    assert.equal(out.Keywords, 'solo');
    assert.deepEqual(out.Creator, ['x1', 'x2']);
    assert.equal(out.Rights, 'R');
    assert.deepEqual(out.LocationShownCity, ['A', 'B']);
    assert.deepEqual(out.LocationShownCountryName, ['P']);
    assert.equal(out.CreateDate, '2019-10-16T17:01:03.000Z');
  });
});

describe('PNG and CMYK', () => {
  test('PNG with transparent areas', async () => {
    const bytes = await pngWithAlpha();
    const { metadata: m, embeddedMetadata } = await analyze(bytes, 'alpha.png');
    assert.equal(m.format, 'png');
    assert.equal(m.width, 120);
    assert.equal(m.height, 80);
    assert.equal(m.hasTransparency, true);
    assert.equal(m.hasColorProfile, false);
    assert.equal(m.quality, 0);
    assert.match(m.pHash as string, HEX16);
    assert.deepEqual(m.exif, {});
    assert.deepEqual(embeddedMetadata, {});
  });

  test('PNG with an alpha channel that is opaque everywhere has no transparency', async () => {
    const { metadata: m } = await analyze(await pngOpaqueAlpha(), 'opaque.png');
    assert.equal(m.hasTransparency, false);
  });

  test('CMYK JPEG with an ICC profile', async () => {
    const bytes = await cmykJpegWithIcc();
    assert.equal((await sharp(bytes).metadata()).space, 'cmyk');
    const { metadata: m } = await analyze(bytes, 'cmyk.jpg');
    assert.equal(m.format, 'jpg');
    assert.equal(m.hasColorProfile, true);
    assert.equal(m.hasTransparency, false);
    assert.equal(m.width, 160);
    assert.ok(Math.abs((m.quality as number) - 80) <= 2, `quality ${m.quality}`);
    assert.match(m.pHash as string, HEX16);
  });
});

describe('video and audio through ffprobe', () => {
  test('MP4: H.264 + AAC, 320×240, 2 s', async () => {
    const bytes = await mp4();
    const a = await analyze(bytes, 'clip.mp4');
    assert.equal(a.fileType, 'non-image');
    assert.equal(a.mime, 'video/mp4');
    assert.ok(a.av);
    assert.deepEqual(
      { width: a.av.width, height: a.av.height, duration: a.av.duration, videoCodec: a.av.videoCodec, audioCodec: a.av.audioCodec },
      { width: 320, height: 240, duration: 2, videoCodec: 'h264', audioCodec: 'aac' },
    );
    // The container's rate: size × 8 / duration, within what the container overhead allows.
    const expected = (bytes.length * 8) / 2;
    assert.ok(Math.abs(a.av.bitRate! - expected) / expected < 0.1, `bitRate ${a.av.bitRate} vs ${expected}`);
    assert.deepEqual(a.metadata, {
      height: 240,
      width: 320,
      bitRate: a.av.bitRate,
      duration: 2,
      audioCodec: 'aac',
      videoCodec: 'h264',
      size: bytes.length,
      format: 'mp4',
    });
  });

  test('MP3: 3 s at 128 kbit/s, ID3 tags in embeddedMetadata', async () => {
    const bytes = await mp3();
    const a = await analyze(bytes, 'tone.mp3');
    assert.equal(a.fileType, 'non-image');
    assert.equal(a.mime, 'audio/mpeg');
    assert.equal(a.metadata.format, 'mp3');
    assert.equal(a.metadata.duration, 3);
    assert.equal(a.metadata.audioCodec, 'mp3');
    assert.equal('videoCodec' in a.metadata, false);
    assert.equal('width' in a.metadata, false);
    assert.ok(Math.abs((a.metadata.bitRate as number) - 128_000) < 128_000 * 0.05, String(a.metadata.bitRate));
    assert.equal(a.embeddedMetadata.Title, 'Test Tone');
    assert.equal(a.embeddedMetadata.Artist, 'Tessera');
  });

  test('without ffprobe, video is stored with size and format only', async () => {
    const path = save(await mp4(), 'mp4');
    const probed = await probe.probe(path, 'x.mp4');
    const a = await new MediaAnalyzer({ ffprobePath: null }).analyze(path, probed, 10);
    assert.equal(a.av, null);
    assert.deepEqual(a.metadata, { size: 10, format: 'mp4' });
  });

  test('avFacts: displayed dimensions, cover art is not video, truncated seconds', () => {
    const f = avFacts(
      {
        streams: [
          { codec_type: 'video', codec_name: 'mjpeg', width: 500, height: 500, disposition: { attached_pic: 1 } },
          { codec_type: 'video', codec_name: 'hevc', width: 1920, height: 1080, side_data_list: [{ rotation: -90 }] },
          { codec_type: 'audio', codec_name: 'opus' },
        ],
        format: { duration: '7.58', bit_rate: '1453966' },
      },
      1,
    );
    assert.deepEqual(f, { width: 1080, height: 1920, duration: 7, bitRate: 1453966, videoCodec: 'hevc', audioCodec: 'opus' });
  });
});

describe('other files', () => {
  test('a text file gets size and format only', async () => {
    const a = await analyze(Buffer.from('hello, world\n'), 'notes.txt');
    assert.deepEqual(a.metadata, { size: 13, format: 'txt' });
    assert.deepEqual(a.embeddedMetadata, {});
    assert.equal(a.av, null);
  });

  test('a corrupt JPEG still uploads with what could be read', async () => {
    const good = await jpegWithExif();
    const truncated = good.subarray(0, Math.floor(good.length * 0.6));
    const path = save(truncated, 'jpg');
    const probed = await probe.probe(path, 'broken.jpg');
    const a = await probe.analyze(path, probed, truncated.length);
    assert.equal(a.metadata.size, truncated.length);
    assert.equal(typeof a.metadata.quality, 'number');
  });
});

describe('JPEG quality estimation', () => {
  test('quality 50 is the Annex K tables themselves', () => {
    assert.deepEqual(ijgTable(IJG_LUMINANCE, 50), IJG_LUMINANCE);
    assert.deepEqual(ijgTable(IJG_CHROMINANCE, 50), IJG_CHROMINANCE);
    assert.deepEqual(ijgTable(IJG_LUMINANCE, 100), new Array(64).fill(1));
  });

  test('every IJG quality is recovered exactly from its own tables', () => {
    for (let q = 1; q <= 100; q++) {
      const est = estimateQuality(new Map([[0, ijgTable(IJG_LUMINANCE, q)], [1, ijgTable(IJG_CHROMINANCE, q)]]));
      assert.equal(est, q);
    }
    assert.equal(estimateQuality(new Map()), null);
  });

  test('files written by sharp (libjpeg) at known qualities', async () => {
    for (const q of [10, 30, 50, 75, 90, 100]) {
      const path = save(await scene(0, 64, 48).jpeg({ quality: q }).toBuffer(), 'jpg');
      const est = await estimateJpegQuality(path);
      assert.ok(est !== null && Math.abs(est - q) <= 2, `q=${q} estimated ${est}`);
    }
  });

  test('a greyscale JPEG (luminance table only) and a non-JPEG', async () => {
    const grey = save(await scene(2, 64, 48).greyscale().jpeg({ quality: 60 }).toBuffer(), 'jpg');
    assert.equal(await estimateJpegQuality(grey), 60);
    const png = save(await pngWithAlpha(), 'png');
    assert.equal(await estimateJpegQuality(png), null);
  });
});

describe('pHash', () => {
  const LIMIT = 268_402_689;

  test('16 hex characters; hashing is deterministic and ignores DC', () => {
    // A pattern with energy at many frequencies (x·y products), so no coefficient sits on the median.
    const pattern = new Uint8Array(1024).map((_, i) => ((i % 32) * 7 + Math.floor(i / 32) * 3 + ((i % 32) * Math.floor(i / 32)) % 40) % 200);
    const brighter = pattern.map((v) => v + 50);
    assert.match(phashOfPixels(pattern), HEX16);
    assert.equal(phashOfPixels(pattern), phashOfPixels(pattern));
    // Brightness is the DC term alone, which the hash leaves out.
    assert.equal(phashOfPixels(brighter), phashOfPixels(pattern));
    assert.equal(phashDistance('0000000000000000', 'ffffffffffffffff'), 64);
    assert.equal(phashDistance('63433b3ccf8e1ebe', 'f5d2226cd9d32b16'), 27); // ImageKit's documented example
  });

  test('resized and recompressed versions are at most 6 bits apart; different images at least 20', async () => {
    const hashes: string[][] = [];
    for (let seed = 0; seed < 4; seed++) {
      const original = save(await scene(seed).jpeg({ quality: 92 }).toBuffer(), 'jpg');
      const variants = [
        original,
        save(await sharp(original).resize(200).jpeg({ quality: 40 }).toBuffer(), 'jpg'),
        save(await sharp(original).resize(1280).jpeg({ quality: 70 }).toBuffer(), 'jpg'),
        save(await sharp(original).resize(320).png().toBuffer(), 'png'),
        save(await sharp(original).webp({ quality: 30 }).toBuffer(), 'webp'),
      ];
      hashes.push(await Promise.all(variants.map((p) => phashOfFile(p, LIMIT))));
    }
    for (const [seed, group] of hashes.entries()) {
      for (const h of group.slice(1)) {
        const d = phashDistance(group[0]!, h);
        assert.ok(d <= 6, `scene ${seed}: variant ${h} is ${d} bits from ${group[0]}`);
      }
    }
    for (let i = 0; i < hashes.length; i++) {
      for (let j = i + 1; j < hashes.length; j++) {
        const d = phashDistance(hashes[i]![0]!, hashes[j]![0]!);
        assert.ok(d >= 20, `scenes ${i} and ${j} are only ${d} bits apart`);
      }
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { ApiError } from '../../src/errors/index.js';
import { parseTransformation } from '../../src/transform/parse/index.js';
import { renderImage, type RenderOptions, type RenderResult } from '../../src/transform/pipeline/index.js';

// Real sharp on generated images (DESIGN rule 10): dimensions, formats and pixels are checked.

type RGBA = [number, number, number, number];
const RED: RGBA = [255, 0, 0, 255];
const GREEN: RGBA = [0, 255, 0, 255];
const BLUE: RGBA = [0, 0, 255, 255];
const YELLOW: RGBA = [255, 255, 0, 255];
const WHITE: RGBA = [255, 255, 255, 255];
const MAGENTA: RGBA = [255, 0, 255, 255];

const LIMITS = { maxInputPixels: 40_000_000, maxOutputPixels: 40_000_000, timeoutMs: 30_000 };

/** A raw RGB(A) image from a function of (x, y). */
async function paint(width: number, height: number, fn: (x: number, y: number) => RGBA, format: 'png' | 'jpg' = 'png'): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(fn(x, y), (y * width + x) * 4);
  }
  const s = sharp(data, { raw: { width, height, channels: 4 } });
  return format === 'png' ? s.png().toBuffer() : s.flatten().jpeg({ quality: 95 }).toBuffer();
}

/** 400×300: red top-left, green top-right, blue bottom-left, yellow bottom-right. */
const quadrantColor = (w: number, h: number) => (x: number, y: number): RGBA =>
  y < h / 2 ? (x < w / 2 ? RED : GREEN) : x < w / 2 ? BLUE : YELLOW;

let QUAD: Buffer;
let QUAD_JPG: Buffer;
let workDir: string;

before(async () => {
  QUAD = await paint(400, 300, quadrantColor(400, 300));
  QUAD_JPG = await paint(400, 300, quadrantColor(400, 300), 'jpg');
  workDir = await mkdtemp(join(tmpdir(), 'tessera-pipeline-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function run(tr: string, input: Buffer = QUAD, opts: Partial<RenderOptions> = {}): Promise<RenderResult> {
  return renderImage({ buffer: input }, parseTransformation(tr), { limits: LIMITS, ...opts });
}

interface Pixels {
  width: number;
  height: number;
  at(x: number, y: number): RGBA;
}

async function pixels(buf: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(buf).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at(x, y) {
      assert.ok(x >= 0 && y >= 0 && x < info.width && y < info.height, `(${x},${y}) is outside ${info.width}x${info.height}`);
      const i = (y * info.width + x) * 4;
      return [data[i], data[i + 1], data[i + 2], data[i + 3]] as RGBA;
    },
  };
}

function near(actual: RGBA, expected: RGBA, tolerance = 40, label = ''): void {
  const ok = actual.every((v, i) => Math.abs(v - (expected[i] as number)) <= tolerance);
  assert.ok(ok, `${label} expected ~${expected.join(',')} but got ${actual.join(',')}`);
}

async function dims(tr: string, input: Buffer = QUAD): Promise<string> {
  const r = await run(tr, input, { defaultFormat: 'orig' });
  const meta = await sharp(r.data).metadata();
  assert.equal(`${meta.width}x${meta.height}`, `${r.width}x${r.height}`, 'reported size matches the bytes');
  return `${r.width}x${r.height}`;
}

const is400 = (pattern?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ApiError, `expected ApiError, got ${e instanceof Error ? e.stack : String(e)}`);
  assert.equal(e.status, 400, e.message);
  if (pattern) assert.match(e.message, pattern);
  return true;
};

describe('resize and crop dimensions (400x300 original)', () => {
  const cases: Array<[string, string]> = [
    ['w-200', '200x150'],
    ['h-150', '200x150'],
    ['w-0.5', '200x150'],
    ['h-0.1', '40x30'],
    ['w-iw_div_4', '100x75'],
    ['w-200,h-200', '200x200'],
    ['w-800', '800x600'],
    ['w-800,h-800,c-maintain_ratio_no_enlarge', '300x300'],
    ['w-100,h-300,c-force', '100x300'],
    ['w-100,c-force', '100x300'],
    ['w-300,h-200,c-at_max', '267x200'],
    ['w-800,h-800,c-at_max', '400x300'],
    ['w-800,h-800,c-at_max_enlarge', '800x600'],
    ['w-300,h-300,c-at_least', '400x300'],
    ['w-100,h-100,c-at_least', '133x100'],
    ['w-300,h-300,cm-pad_resize', '300x300'],
    ['w-800,h-800,cm-pad_resize_no_enlarge', '800x800'],
    ['w-100,h-50,cm-extract', '100x50'],
    ['w-800,h-800,cm-extract', '400x300'],
    ['w-500,h-400,cm-pad_extract', '500x400'],
    ['w-400,ar-1-1', '400x400'],
    ['h-100,ar-2-1', '200x100'],
    ['w-100,h-100,ar-4-3', '100x100'],
    ['w-100,dpr-2', '200x150'],
    ['w-4000,dpr-2', '4000x3000'],
    ['w-200:rt-90', '150x200'],
    ['rt-90:w-200', '200x267'],
    ['w-iw_div_2,h-ih_div_2:b-cw_mul_0.05_yellow', '220x170'],
    ['n-ik_ml_thumbnail', '300x225'],
    ['b-10_FF00FF', '420x320'],
    ['w-100,h-100,fo-auto', '100x100'],
    ['w-100,h-100,fo-face,z-2', '100x100'],
    ['w-100,h-100,cm-extract,fo-face,z-0.5', '100x100'],
  ];
  for (const [tr, expected] of cases) test(tr, async () => assert.equal(await dims(tr), expected));

  test('client hints feed w-auto and dpr-auto; without them they change nothing', async () => {
    assert.equal((await run('w-auto', QUAD, { clientHints: { width: 100 } })).width, 100);
    assert.equal((await run('w-auto')).width, 400);
    assert.equal((await run('w-100,dpr-auto', QUAD, { clientHints: { dpr: 3 } })).width, 300);
  });
});

describe('crop position, found by sampling the coloured quadrants', () => {
  test('maintain_ratio crops from the centre by default, by fo otherwise', async () => {
    let p = await pixels((await run('w-200,h-300,f-png')).data);
    near(p.at(50, 75), RED, 40, 'centre crop left');
    near(p.at(150, 75), GREEN, 40, 'centre crop right');
    p = await pixels((await run('w-200,h-300,fo-left,f-png')).data);
    near(p.at(150, 75), RED);
    near(p.at(150, 225), BLUE);
    p = await pixels((await run('w-200,h-300,fo-right,f-png')).data);
    near(p.at(50, 75), GREEN);
    p = await pixels((await run('w-400,h-100,fo-top,f-png')).data);
    near(p.at(100, 90), RED);
    near(p.at(300, 90), GREEN);
    p = await pixels((await run('w-400,h-100,fo-bottom,f-png')).data);
    near(p.at(100, 10), BLUE);
    near(p.at(300, 10), YELLOW);
  });

  test('cm-extract keeps the original scale and honours the corners', async () => {
    const corner = async (fo: string) => (await pixels((await run(`w-100,h-100,cm-extract,fo-${fo},f-png`)).data)).at(50, 50);
    near(await corner('top_left'), RED);
    near(await corner('top_right'), GREEN);
    near(await corner('bottom_left'), BLUE);
    near(await corner('bottom_right'), YELLOW);
  });

  test('cm-extract with x/y (top-left) and xc/yc (centre)', async () => {
    let p = await pixels((await run('w-100,h-50,cm-extract,x-250,y-200,f-png')).data);
    near(p.at(0, 0), YELLOW);
    near(p.at(99, 49), YELLOW);
    p = await pixels((await run('w-50,h-50,cm-extract,xc-100,yc-75,f-png')).data);
    near(p.at(0, 0), RED);
    near(p.at(49, 49), RED);
    p = await pixels((await run('w-100,h-100,cm-extract,x-iw_mul_0.5,y-ih_mul_0.5,f-png')).data);
    near(p.at(10, 10), YELLOW);
    await assert.rejects(run('w-50,h-50,cm-extract,xc-10,yc-100'), is400(/beyond the image/));
  });

  test('cm-pad_resize pads with bg where fo says (fo-left: image left, padding right)', async () => {
    let p = await pixels((await run('w-600,h-300,cm-pad_resize,bg-FF00FF,fo-left,f-png')).data);
    near(p.at(100, 75), RED);
    near(p.at(550, 150), MAGENTA);
    p = await pixels((await run('w-600,h-300,cm-pad_resize,bg-FF00FF,fo-right,f-png')).data);
    near(p.at(50, 150), MAGENTA);
    near(p.at(250, 75), RED);
    near(p.at(500, 75), GREEN);
    p = await pixels((await run('w-600,h-300,cm-pad_resize,bg-FF00FF,f-png')).data);
    near(p.at(50, 150), MAGENTA);
    near(p.at(550, 150), MAGENTA);
    near(p.at(150, 75), RED);
    p = await pixels((await run('w-400,h-500,cm-pad_resize,f-png')).data);
    near(p.at(200, 10), [0, 0, 0, 255], 10, 'default padding is black');
  });

  test('cm-pad_extract pads a region larger than the image', async () => {
    const p = await pixels((await run('w-500,h-400,cm-pad_extract,bg-00FFFF,f-png')).data);
    near(p.at(5, 5), [0, 255, 255, 255]);
    near(p.at(60, 60), RED);
    near(p.at(440, 340), YELLOW);
  });

  test('fo-custom centres on the file customCoordinates', async () => {
    const customCoordinates = '300,200,50,50'; // inside the yellow quadrant
    let p = await pixels((await run('w-100,h-100,cm-extract,fo-custom,f-png', QUAD, { customCoordinates })).data);
    near(p.at(0, 0), YELLOW);
    near(p.at(99, 99), YELLOW);
    p = await pixels((await run('w-400,h-100,fo-custom,f-png', QUAD, { customCoordinates })).data);
    near(p.at(300, 50), YELLOW);
    near(p.at(100, 50), BLUE);
    p = await pixels((await run('w-100,h-100,cm-extract,fo-custom,f-png', QUAD, { customCoordinates: null })).data);
    near(p.at(25, 25), RED, 40, 'without coordinates the centre is used');
  });

  test('fo-auto finds the salient part of the image', async () => {
    // Grey 400x200 with a red square near the right edge.
    const img = await paint(400, 200, (x, y) => (x >= 340 && x < 380 && y >= 80 && y < 120 ? RED : [128, 128, 128, 255]));
    const hasRed = async (tr: string) => {
      const p = await pixels((await run(tr, img)).data);
      for (let y = 0; y < p.height; y += 2) for (let x = 0; x < p.width; x += 2) if (p.at(x, y)[0] > 200 && p.at(x, y)[1] < 80) return true;
      return false;
    };
    assert.equal(await hasRed('w-100,h-100,f-png'), false, 'the centre crop misses it');
    assert.equal(await hasRed('w-100,h-100,fo-auto,f-png'), true, 'smart crop keeps it');
    assert.equal(await hasRed('w-100,h-100,cm-extract,fo-face,f-png'), true, 'face (attention) extract keeps it');
  });
});

describe('formats and Accept negotiation', () => {
  const format = async (r: RenderResult) => {
    const m = await sharp(r.data).metadata();
    return m.format === 'heif' ? (m.compression === 'av1' ? 'avif' : 'heif') : m.format === 'jpeg' ? 'jpg' : m.format;
  };

  test('f-auto and no f: AVIF, then WebP, then the original format', async () => {
    const avif = await run('w-50', QUAD, { accept: 'image/avif,image/webp,image/apng,*/*;q=0.8' });
    assert.equal(await format(avif), 'avif');
    assert.deepEqual([avif.format, avif.mime, avif.negotiated], ['avif', 'image/avif', true]);
    const webp = await run('w-50,f-auto', QUAD, { accept: 'image/webp,*/*' });
    assert.equal(await format(webp), 'webp');
    assert.equal(webp.mime, 'image/webp');
    assert.equal(await format(await run('w-50', QUAD, { accept: 'text/html,*/*' })), 'png');
    assert.equal(await format(await run('w-50', QUAD_JPG, { accept: '*/*' })), 'jpg');
    assert.equal(await format(await run('w-50', QUAD, { accept: 'image/avif;q=0, image/webp' })), 'webp');
    assert.equal(await format(await run('w-50', QUAD, { accept: 'image/avif,image/webp', autoAvif: false })), 'webp');
    const orig = await run('w-50', QUAD, { accept: 'image/webp', defaultFormat: 'orig' });
    assert.deepEqual([await format(orig), orig.negotiated], ['png', false]);
  });

  test('explicit formats win over Accept', async () => {
    for (const [f, expected] of [['jpg', 'jpg'], ['jpeg', 'jpg'], ['png', 'png'], ['webp', 'webp'], ['avif', 'avif'], ['orig', 'jpg']] as const) {
      const r = await run(`w-50,f-${f}`, QUAD_JPG, { accept: 'image/avif,image/webp' });
      assert.equal(await format(r), expected, f);
      assert.equal(r.negotiated, false);
    }
  });

  test('f-gif needs a GIF original; other impossible formats are a 400', async () => {
    await assert.rejects(run('f-gif'), is400(/GIF/));
    const gif = await sharp(QUAD).gif().toBuffer();
    assert.equal(await format(await run('w-50,f-gif', gif)), 'gif');
    await assert.rejects(run('f-svg'), is400(/SVG/));
    await assert.rejects(run('f-mp4'), is400(/video/));
  });

  test('quality changes the size; pr makes progressive JPEGs; lo makes lossless WebP', async () => {
    const noisy = await paint(200, 200, (x, y) => [(x * 37 + y * 11) % 256, (x * y) % 256, (x ^ y) % 256, 255]);
    const q10 = await run('f-jpg,q-10', noisy);
    const q90 = await run('f-jpg,q-90', noisy);
    assert.ok(q10.data.length < q90.data.length / 2, `${q10.data.length} vs ${q90.data.length}`);
    const w10 = await run('f-webp,q-10', noisy);
    const w90 = await run('f-webp,q-90', noisy);
    assert.ok(w10.data.length < w90.data.length, `${w10.data.length} vs ${w90.data.length}`);
    assert.equal((await sharp((await run('f-jpg,pr-true')).data).metadata()).isProgressive, true);
    assert.equal((await sharp((await run('f-jpg')).data).metadata()).isProgressive, false);
    const rgb = (b: Buffer) => sharp(b).removeAlpha().raw().toBuffer();
    const original = await rgb(noisy);
    const lossless = await rgb((await run('f-webp,lo-true', noisy)).data);
    assert.ok(lossless.equals(original), 'lossless WebP keeps every pixel');
    const lossy = await rgb((await run('f-webp', noisy)).data);
    assert.ok(!lossy.equals(original));
  });

  test('md-true keeps metadata; by default it is stripped', async () => {
    const withExif = await sharp(QUAD).jpeg().withExif({ IFD0: { Copyright: 'Tessera test' } }).toBuffer();
    assert.ok((await sharp(withExif).metadata()).exif);
    assert.equal((await sharp((await run('w-100,f-jpg', withExif)).data).metadata()).exif, undefined);
    const kept = await sharp((await run('w-100,f-jpg,md-true', withExif)).data).metadata();
    assert.ok(kept.exif?.toString('latin1').includes('Tessera test'));
  });

  test('orig-true returns the original bytes whatever else is asked', async () => {
    const r = await run('w-10,e-grayscale,orig-true', QUAD_JPG, { accept: 'image/webp' });
    assert.ok(r.data.equals(QUAD_JPG));
    assert.deepEqual([r.original, r.format, r.mime, r.width, r.height], [true, 'jpg', 'image/jpeg', 400, 300]);
  });

  test('SVG originals pass through unless a raster format is asked for', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#f00"/></svg>');
    const same = await run('w-10', svg, { accept: 'image/webp' });
    assert.ok(same.data.equals(svg));
    assert.equal(same.mime, 'image/svg+xml');
    const png = await run('w-80,f-png', svg);
    assert.deepEqual([png.format, png.width, png.height], ['png', 80, 40]);
    near((await pixels(png.data)).at(40, 20), RED);
  });

  test('an SVG read from a path cannot pull in the files beside it', async () => {
    await writeFile(join(workDir, 'secret.png'), await paint(40, 40, () => RED));
    const svg = join(workDir, 'evil.svg');
    await writeFile(
      svg,
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40">' +
        '<image href="secret.png" xlink:href="secret.png" width="40" height="40"/></svg>',
    );
    const r = await renderImage({ path: svg }, parseTransformation('f-png'), { limits: LIMITS });
    assert.notDeepEqual((await pixels(r.data)).at(20, 20).slice(0, 3), [255, 0, 0]);
  });

  test('pg picks a frame of an animated original (the first by default)', async () => {
    const frame = (c: string) => sharp({ create: { width: 10, height: 10, channels: 3, background: c } }).png().toBuffer();
    const gif = await sharp([await frame('#f00'), await frame('#00f')], { join: { animated: true } }).gif().toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 2);
    near((await pixels((await run('w-20,f-png', gif)).data)).at(5, 5), RED, 5);
    near((await pixels((await run('w-20,pg-2,f-png', gif)).data)).at(5, 5), BLUE, 5);
  });

  test('a file path works as input', async () => {
    const file = join(workDir, 'quad.png');
    await writeFile(file, QUAD);
    const r = await renderImage({ path: file }, parseTransformation('w-40'), { limits: LIMITS });
    assert.equal(r.width, 40);
    assert.ok((await renderImage({ path: file }, parseTransformation('orig-true'), { limits: LIMITS })).data.equals(QUAD));
  });
});

describe('look: grayscale, radius, border, background, effects', () => {
  test('e-grayscale gives r = g = b everywhere', async () => {
    const p = await pixels((await run('e-grayscale,f-png')).data);
    for (const [x, y] of [[10, 10], [390, 10], [10, 290], [390, 290], [200, 150]] as const) {
      const [r, g, b] = p.at(x, y);
      assert.ok(r === g && g === b, `(${x},${y}) = ${r},${g},${b}`);
    }
    assert.notDeepEqual(p.at(10, 10), p.at(390, 290), 'different colours stay different greys');
  });

  test('r-max makes the corners transparent; with JPEG they take the bg colour', async () => {
    let p = await pixels((await run('r-max,f-png')).data);
    assert.equal(p.at(0, 0)[3], 0);
    assert.equal(p.at(399, 299)[3], 0);
    near(p.at(200, 5), [p.at(200, 5)[0], p.at(200, 5)[1], p.at(200, 5)[2], 255], 5, 'top middle is opaque');
    near(p.at(10, 150), BLUE, 60, 'left middle is opaque');
    p = await pixels((await run('r-40,f-png')).data);
    assert.equal(p.at(1, 1)[3], 0);
    near(p.at(45, 45), RED);
    near(p.at(1, 150), BLUE);
    p = await pixels((await run('r-40,bg-00FF00,f-jpg')).data);
    near(p.at(1, 1), GREEN, 60);
    p = await pixels((await run('r-0_0_60_0,f-png')).data);
    assert.equal(p.at(1, 1)[3], 255, 'only the bottom-right corner is rounded');
    assert.equal(p.at(398, 298)[3], 0);
  });

  test('b- draws a border of the colour around the image', async () => {
    const p = await pixels((await run('b-10_FF00FF,f-png')).data);
    assert.deepEqual([p.width, p.height], [420, 320]);
    near(p.at(2, 2), MAGENTA);
    near(p.at(2, 160), MAGENTA);
    near(p.at(417, 317), MAGENTA);
    near(p.at(15, 15), RED);
    near(p.at(405, 305), YELLOW);
  });

  test('bg fills transparent pixels', async () => {
    const transparent = await paint(20, 20, (x) => (x < 10 ? [0, 0, 0, 0] : BLUE));
    let p = await pixels((await run('bg-FF0000,f-png', transparent)).data);
    near(p.at(2, 2), RED, 5);
    near(p.at(15, 2), BLUE, 5);
    p = await pixels((await run('f-png', transparent)).data);
    assert.equal(p.at(2, 2)[3], 0);
    p = await pixels((await run('bg-FF000050,f-png', transparent)).data);
    near(p.at(2, 2), [255, 0, 0, 128], 3, 'RGBA bg keeps its opacity');
  });

  test('colours drawn on a one-band grey original stay colours', async () => {
    const grey = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#808080' } }).toColourspace('b-w').png().toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1);
    near((await pixels((await run('w-50,h-100,cm-pad_resize,bg-FF0000,f-png', grey)).data)).at(25, 5), RED, 5);
    near((await pixels((await run('b-5_00FF00,f-png', grey)).data)).at(1, 1), GREEN, 5);
    near((await pixels((await run('rt-45,bg-0000FF,f-png', grey)).data)).at(1, 1), BLUE, 5);
    const p = await pixels((await run('e-grayscale,f-png', grey)).data);
    near(p.at(10, 10), [128, 128, 128, 255], 3);
  });

  test('bg-dominant pads with the most common colour', async () => {
    const mostlyBlue = await paint(100, 100, (x) => (x < 80 ? BLUE : RED));
    const p = await pixels((await run('w-300,h-100,cm-pad_resize,bg-dominant,f-png', mostlyBlue)).data);
    near(p.at(10, 50), BLUE, 50);
  });

  test('blur, sharpen, unsharp mask, contrast and opacity change pixels as expected', async () => {
    const edge = await paint(100, 20, (x) => (x < 50 ? [0, 0, 0, 255] : WHITE));
    const blurred = await pixels((await run('bl-10,f-png', edge)).data);
    const mid = blurred.at(49, 10)[0];
    assert.ok(mid > 20 && mid < 235, `blurred edge pixel ${mid}`);
    near(blurred.at(5, 10), [0, 0, 0, 255], 5);

    const soft = await paint(100, 20, (x) => [90 + x % 2 * 40, 90 + x % 2 * 40, 90 + x % 2 * 40, 255]);
    const sharpened = await pixels((await run('e-sharpen-50,f-png', soft)).data);
    assert.ok(sharpened.at(50, 10)[0] - sharpened.at(51, 10)[0] !== 0);
    const usm = await run('e-usm-2-2-0.8-0.024,f-png', soft);
    assert.ok(!(await sharp(usm.data).raw().toBuffer()).equals(await sharp(soft).raw().toBuffer()));

    const dull = await paint(100, 20, (x) => [100 + Math.floor(x / 2), 100 + Math.floor(x / 2), 100 + Math.floor(x / 2), 255]);
    const stretched = await pixels((await run('e-contrast,f-png', dull)).data);
    assert.ok(stretched.at(0, 10)[0] < 30, `darkest ${stretched.at(0, 10)[0]}`);
    assert.ok(stretched.at(99, 10)[0] > 225, `lightest ${stretched.at(99, 10)[0]}`);

    const faded = await pixels((await run('o-50,f-png')).data);
    near(faded.at(10, 10), [255, 0, 0, 128], 3);
  });

  test('e-gradient darkens towards the end of its direction', async () => {
    const white = await paint(100, 100, () => WHITE);
    const p = await pixels((await run('e-gradient-from-FFFFFF00_to-000000_sp-1,f-png', white)).data);
    assert.ok(p.at(50, 2)[0] > 240, `top ${p.at(50, 2)[0]}`);
    assert.ok(p.at(50, 97)[0] < 20, `bottom ${p.at(50, 97)[0]}`);
    const sideways = await pixels((await run('e-gradient-ld-right_from-FFFFFF00_to-000000,f-png', white)).data);
    assert.ok(sideways.at(2, 50)[0] > 240 && sideways.at(97, 50)[0] < 20);
  });

  test('e-shadow casts a shadow beside the opaque pixels', async () => {
    const object = await paint(100, 100, (x, y) => (x >= 30 && x < 70 && y >= 30 && y < 70 ? BLUE : [0, 0, 0, 0]));
    const p = await pixels((await run('e-shadow-bl-0_st-60_x-10_y-10,f-png', object)).data);
    near(p.at(50, 50), BLUE, 5);
    assert.ok(p.at(75, 75)[3] > 100, `shadow alpha ${p.at(75, 75)[3]}`);
    assert.equal(p.at(10, 10)[3], 0);
    const big = await paint(1500, 1500, () => BLUE);
    await assert.rejects(run('e-shadow', big), is400(/2 megapixels/));
  });
});

describe('trim, rotation, flip', () => {
  test('t-true removes a uniform border', async () => {
    const framed = await paint(140, 120, (x, y) => (x >= 20 && x < 120 && y >= 20 && y < 100 ? RED : WHITE));
    const r = await run('t-true,f-png', framed);
    assert.deepEqual([r.width, r.height], [100, 80]);
    near((await pixels(r.data)).at(0, 0), RED);
    assert.deepEqual([(await run('t-false,f-png', framed)).width], [140]);
  });

  test('rt-90 rotates clockwise, rt-N90 counter-clockwise', async () => {
    let p = await pixels((await run('rt-90,f-png')).data);
    assert.deepEqual([p.width, p.height], [300, 400]);
    near(p.at(10, 10), BLUE);
    near(p.at(290, 10), RED);
    p = await pixels((await run('rt-N90,f-png')).data);
    near(p.at(10, 10), GREEN);
    p = await pixels((await run('rt-45,f-png')).data);
    assert.ok(p.width > 400 && p.height > 300);
    assert.equal(p.at(0, 0)[3], 0, 'the uncovered corners are transparent');
  });

  test('EXIF orientation is applied (rt-auto)', async () => {
    const tagged = await sharp(QUAD).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    for (const tr of ['w-400', 'rt-auto,w-400']) {
      const r = await run(`${tr},f-png`, tagged);
      const p = await pixels(r.data);
      assert.deepEqual([p.width, p.height], [400, 533]);
      near(p.at(20, 20), BLUE, 50, tr);
    }
  });

  test('header facts of an earlier render give the same output without reading the header again', async () => {
    const tagged = await sharp(QUAD).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    for (const [input, tr] of [[tagged, 'w-200'], [QUAD_JPG, 'w-120,h-90,f-webp'], [QUAD, 'orig-true']] as const) {
      const first = await run(tr, input);
      assert.equal(first.facts.width, 400);
      // The facts carry what rendering needs, not the header's EXIF or ICC blobs.
      assert.equal('exif' in first.facts, false);
      const again = await run(tr, input, { facts: first.facts });
      assert.ok(again.data.equals(first.data), tr);
      assert.deepEqual([again.width, again.height, again.format], [first.width, first.height, first.format]);
      if (input === tagged) assert.deepEqual([again.width, again.height], [200, 267], 'EXIF orientation still applies');
    }
  });

  test('fl-h mirrors, fl-v flips', async () => {
    near((await pixels((await run('fl-h,f-png')).data)).at(10, 10), GREEN);
    near((await pixels((await run('fl-v,f-png')).data)).at(10, 10), BLUE);
    near((await pixels((await run('fl-h_v,f-png')).data)).at(10, 10), YELLOW);
  });
});

describe('layers', () => {
  const WHITE_BASE = () => paint(300, 200, () => WHITE);
  const square = (size: number, c: RGBA) => paint(size, size, () => c);
  let files: Map<string, Buffer>;
  before(async () => {
    files = new Map([
      ['/red.png', await square(40, RED)],
      ['/folder/green.png', await square(100, GREEN)],
      ['/framed.png', await paint(60, 60, (x, y) => (x >= 20 && x < 40 && y >= 20 && y < 40 ? RED : WHITE))],
    ]);
  });
  const loadOverlay = async (path: string) => files.get(path) ?? null;
  const layered = async (tr: string, base?: Buffer) => pixels((await run(`${tr}:f-png`, base ?? (await WHITE_BASE()), { loadOverlay })).data);

  test('an image layer lands at lx/ly', async () => {
    const p = await layered('l-image,i-red.png,lx-10,ly-20,l-end');
    near(p.at(10, 20), RED);
    near(p.at(49, 59), RED);
    near(p.at(9, 20), WHITE);
    near(p.at(50, 60), WHITE);
  });

  test('N offsets, lfo, lxc/lyc, lap and expressions', async () => {
    let p = await layered('l-image,i-red.png,lx-N10,ly-N0,l-end');
    near(p.at(289, 199), RED);
    near(p.at(250, 160), RED);
    near(p.at(290, 199), WHITE);
    p = await layered('l-image,i-red.png,l-end');
    near(p.at(150, 100), RED, 40, 'centred by default');
    near(p.at(125, 75), WHITE);
    p = await layered('l-image,i-red.png,lfo-bottom_right,l-end');
    near(p.at(299, 199), RED);
    near(p.at(259, 159), WHITE);
    p = await layered('l-image,i-red.png,lxc-100,lyc-100,l-end');
    near(p.at(80, 80), RED);
    near(p.at(119, 119), RED);
    near(p.at(121, 121), WHITE);
    p = await layered('l-image,i-red.png,lap-bottom_right,lx-10,ly-10,l-end');
    near(p.at(289, 189), RED);
    near(p.at(291, 191), WHITE);
    p = await layered('l-image,i-red.png,lx-bw_sub_cw,ly-0,l-end');
    near(p.at(299, 0), RED);
    near(p.at(259, 0), WHITE);
    p = await layered('l-image,i-red.png,lx-1000,ly-10,l-end');
    near(p.at(299, 10), WHITE, 40, 'offsets beyond the base are clamped to it');
  });

  test('layers can be transformed and nested; positions are relative to the parent', async () => {
    let p = await layered('l-image,i-red.png,w-80,rt-90,lx-0,ly-0,l-end');
    near(p.at(79, 79), RED);
    near(p.at(81, 81), WHITE);
    p = await layered('l-image,i-folder@@green.png,lx-50,ly-50,l-image,i-red.png,w-20,lfo-top_left,l-end,l-end');
    near(p.at(52, 52), RED);
    near(p.at(75, 75), GREEN);
    near(p.at(151, 151), WHITE);
    p = await layered('l-image,i-folder@@green.png,w-bw_div_3,lx-0,ly-0,l-end');
    near(p.at(99, 99), GREEN);
    near(p.at(101, 50), WHITE);
  });

  test('image layers are trimmed unless t-false', async () => {
    let p = await layered('l-image,i-framed.png,lx-0,ly-0,l-end');
    near(p.at(0, 0), RED);
    near(p.at(19, 19), RED);
    near(p.at(21, 21), WHITE);
    p = await layered('l-image,i-framed.png,t-false,lx-0,ly-0,l-end');
    near(p.at(10, 10), WHITE);
    near(p.at(30, 30), RED);
  });

  test('solid colour blocks (ik_canvas) with size, alpha and radius', async () => {
    let p = await layered('l-image,i-ik_canvas,bg-0000FF,w-50,h-30,lx-5,ly-5,l-end');
    near(p.at(5, 5), BLUE);
    near(p.at(54, 34), BLUE);
    near(p.at(55, 35), WHITE);
    p = await layered('l-image,i-ik_canvas,bg-000000,al-5,w-50,h-50,lx-0,ly-0,l-end');
    near(p.at(10, 10), [128, 128, 128, 255], 10);
    p = await layered('l-image,i-ik_canvas,bg-0000FF,w-100,h-100,r-max,lx-0,ly-0,l-end');
    near(p.at(1, 1), WHITE);
    near(p.at(50, 50), BLUE);
  });

  test('layer modes: multiply and cutout', async () => {
    const grey = await paint(100, 100, () => [128, 128, 128, 255]);
    let p = await layered('l-image,i-red.png,lm-multiply,lx-0,ly-0,l-end', grey);
    near(p.at(10, 10), [128, 0, 0, 255], 10);
    p = await layered('l-image,i-red.png,lm-cutout,lx-0,ly-0,l-end', grey);
    assert.equal(p.at(10, 10)[3], 0);
    assert.equal(p.at(60, 60)[3], 255);
    await assert.rejects(run('l-image,i-red.png,lm-displace,l-end', grey, { loadOverlay }), is400(/displace/));
  });

  test('a text layer draws in the expected box', async () => {
    const p = await layered('l-text,i-Hello,fs-40,co-000000,lx-20,ly-30,l-end');
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) {
        const dark = p.at(x, y)[0] < 100;
        if (x >= 20 && x < 20 + 200 && y >= 30 && y < 30 + 70) inside += dark ? 1 : 0;
        else outside += dark ? 1 : 0;
      }
    }
    assert.ok(inside > 100, `dark pixels inside ${inside}`);
    assert.equal(outside, 0);
  });

  test('w inside a text layer wraps the text onto more lines', async () => {
    const darkRows = (p: Pixels) => {
      let rows = 0;
      for (let y = 0; y < p.height; y++) {
        let dark = false;
        for (let x = 0; x < p.width && !dark; x++) dark = p.at(x, y)[0] < 100;
        if (dark) rows++;
      }
      return rows;
    };
    const base = await paint(600, 300, () => WHITE);
    const oneLine = await layered('l-text,i-wrap%20these%20words%20please,fs-30,lx-0,ly-0,l-end', base);
    const wrapped = await layered('l-text,i-wrap%20these%20words%20please,fs-30,w-120,lx-0,ly-0,l-end', base);
    assert.ok(darkRows(wrapped) > darkRows(oneLine) * 2, `${darkRows(wrapped)} vs ${darkRows(oneLine)} rows`);
  });

  test('text background, padding, colour and alpha', async () => {
    let p = await layered('l-text,i-Hi,fs-20,co-FFFFFF,bg-FF0000,pa-10,lx-0,ly-0,l-end');
    near(p.at(2, 2), RED, 10, 'padding shows the background');
    p = await layered('l-text,i-Hi,fs-20,bg-0000FF,pa-10,al-5,lx-0,ly-0,l-end');
    near(p.at(2, 2), [128, 128, 255, 255], 10, 'al-5 halves the layer');
  });

  test('missing overlays and unusable layers are a 400', async () => {
    await assert.rejects(run('l-image,i-nope.png,l-end', QUAD, { loadOverlay }), is400(/"\/nope.png" does not exist/));
    await assert.rejects(run('l-image,i-red.png,l-end'), is400(/not available/));
    await assert.rejects(run('l-video,i-clip.mp4,l-end', QUAD, { loadOverlay }), is400(/video base/));
    files.set('/notimage.png', Buffer.from('hello'));
    await assert.rejects(run('l-image,i-notimage.png,l-end', QUAD, { loadOverlay }), is400(/not an image/));
  });
});

describe('the order of parameters never changes the output', () => {
  test('byte-identical results for permuted parameters', async () => {
    const a = await run('w-200,h-100,fo-top,e-grayscale,r-10,b-2_red,f-png');
    const b = await run('f-png,b-2_red,r-10,e-grayscale,fo-top,h-100,w-200');
    assert.ok(a.data.equals(b.data));
  });
});

describe('limits and failures', () => {
  test('a decompression bomb is refused with 400 before decoding', async () => {
    const bomb = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer();
    assert.ok(bomb.length < 2_000_000, `the bomb is small on disk (${bomb.length} bytes)`);
    await assert.rejects(run('w-100', bomb), is400(/8000x8000 pixels, larger than this server transforms/));
    await assert.rejects(run('w-10', QUAD, { limits: { ...LIMITS, maxInputPixels: 1000 } }), is400(/larger than this server/));
  });

  test('outputs beyond maxOutputPixels are refused', async () => {
    await assert.rejects(run('w-3000,h-3000', QUAD, { limits: { ...LIMITS, maxOutputPixels: 1_000_000 } }), is400(/3000x3000.*larger than this server produces/));
    await assert.rejects(run('b-600_red', QUAD, { limits: { ...LIMITS, maxOutputPixels: 1_000_000 } }), is400(/larger than this server produces/));
  });

  test('invalid input and impossible values are a 400, never a crash', async () => {
    await assert.rejects(run('w-100', Buffer.from('not an image at all')), is400(/could not be transformed/));
    await assert.rejects(run('w-100', QUAD.subarray(0, 100)), is400());
    await assert.rejects(run('w-iw_sub_iw'), is400(/at least 1/));
    await assert.rejects(run('w-iw_div_0'), is400(/could not be evaluated/));
    await assert.rejects(run('pg-3'), is400(/page/));
    await assert.rejects(async () => run('w-abc'), is400(/"w"/));
  });

  test('running out of time is a 503', async () => {
    const big = await paint(1200, 1200, (x, y) => [(x * 7) % 256, (y * 3) % 256, 0, 255]);
    await assert.rejects(
      run('bl-100:bl-100:bl-100:e-sharpen:bl-100', big, { limits: { ...LIMITS, timeoutMs: 5 } }),
      (e: unknown) => e instanceof ApiError && e.status === 503 && /took longer/.test(e.message),
    );
  });
});

// Cross-checks buildSrc / buildTransformationString against the official @imagekit/nodejs helper:
// every case must produce the identical string. Signed cases with an expiry freeze the clock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ImageKit from '@imagekit/nodejs';
import { buildSrc, buildTransformationString, signUrl } from '../../src/lib/index.js';
import type { SrcOptions, Transformation } from '../../src/lib/index.js';

const PRIVATE_KEY = 'private_key_test_5f2c';
const official = new ImageKit({ privateKey: PRIVATE_KEY });
const ENDPOINT = 'https://ik.imagekit.io/demo';
const FROZEN_NOW = 1_700_000_000_000;

type OfficialSrcOptions = Parameters<typeof official.helper.buildSrc>[0];

/** The official helper mutates its options (it fills defaults), so it gets its own deep copy. */
function officialSrc(options: SrcOptions): string {
  return official.helper.buildSrc(structuredClone(options) as OfficialSrcOptions);
}

function ours(options: SrcOptions): string {
  return buildSrc({ ...options, privateKey: PRIVATE_KEY });
}

function src(transformation: Transformation[], extra: Partial<SrcOptions> = {}): SrcOptions {
  return { urlEndpoint: ENDPOINT, src: '/sample.jpg', transformation, ...extra };
}

// name → options. Unsigned and signed-without-expiry cases do not depend on the clock.
const CASES: Array<[string, SrcOptions]> = [
  // resize
  ['width and height', src([{ width: 300, height: 200 }])],
  ['width as a fraction', src([{ width: 0.4 }])],
  ['width and height as expressions', src([{ width: 'iw_div_2', height: 'ih_mul_0.5' }])],
  ['aspect ratio with width', src([{ aspectRatio: '4-3', width: 400 }])],
  ['dpr number and auto', src([{ width: 100, dpr: 2 }, { dpr: 'auto' }])],
  // crop modes and focus
  ['crop force', src([{ width: 200, height: 200, crop: 'force' }])],
  ['crop at_max', src([{ width: 200, crop: 'at_max' }])],
  ['crop at_max_enlarge and at_least', src([{ width: 4000, crop: 'at_max_enlarge' }, { height: 50, crop: 'at_least' }])],
  ['crop maintain_ratio with focus', src([{ width: 300, height: 300, crop: 'maintain_ratio', focus: 'top_left' }])],
  ['crop maintain_ratio_no_enlarge', src([{ width: 300, crop: 'maintain_ratio_no_enlarge' }])],
  ['cropMode pad_resize with background', src([{ width: 300, height: 200, cropMode: 'pad_resize', background: 'F3F3F3' }])],
  ['cropMode extract with x/y', src([{ width: 100, height: 100, cropMode: 'extract', x: 10, y: 20 }])],
  ['cropMode pad_extract with centre coordinates', src([{ width: 100, height: 100, cropMode: 'pad_extract', xCenter: 50, yCenter: 'ih_div_2' }])],
  ['cropMode pad_resize_no_enlarge / pad_extract_no_shrink', src([{ cropMode: 'pad_resize_no_enlarge', width: 10 }, { cropMode: 'pad_extract_no_shrink', height: 10 }])],
  ['focus face with zoom', src([{ width: 200, height: 200, focus: 'face', zoom: 0.8 }])],
  ['focus auto and object', src([{ width: 200, focus: 'auto' }, { height: 100, focus: 'car' }])],
  // formats and quality
  ['format auto with quality', src([{ format: 'auto', quality: 80 }])],
  ['format avif / webp / orig', src([{ format: 'avif' }, { format: 'webp' }, { format: 'orig' }])],
  ['optimisation flags true and false', src([{ progressive: true, lossless: false, colorProfile: true, metadata: false }])],
  // effects
  ['blur, radius max, rotation N40, flip, opacity, border', src([{ blur: 10, radius: 'max', rotation: 'N40', flip: 'h_v', opacity: 50, border: '5_FF0000' }])],
  ['per-corner radius and rotation auto', src([{ radius: '10_20_30_40', rotation: 'auto' }])],
  ['trim true and numeric', src([{ trim: true }, { trim: 10 }])],
  ['switch effects', src([{ grayscale: true, contrastStretch: true, aiRemoveBackground: true, aiRemoveBackgroundExternal: true }, { aiUpscale: true, aiRetouch: true, aiVariation: true }])],
  ['optional-value effects bare', src([{ sharpen: true, unsharpMask: true, shadow: true, gradient: true, aiDropShadow: true }])],
  ['optional-value effects with values', src([{ sharpen: 10, unsharpMask: '2-2-0.8-0.024', shadow: 'bl-15_st-40_x-10_y-N5', gradient: 'ld-top_from-green_to-00FF0010_sp-1', aiDropShadow: 'az-45' }])],
  ['AI prompts', src([{ aiChangeBackground: 'prompt-snow road' }, { aiEdit: 'prompte-c25vdyByb2Fk' }])],
  ['colorReplace, colorize, distort', src([{ colorReplace: 'FF0000_35_0000FF', colorize: 'co-red_in-40', distort: 'a-45' }])],
  ['background variants', src([{ width: 400, height: 400, cropMode: 'pad_resize', background: 'blurred_25_N15' }, { background: 'gradient_dominant_2' }])],
  ['named transformation, default image, original', src([{ named: 'thumbnail' }, { defaultImage: '/folder/default-image.jpg' }, { original: true }])],
  ['page of a multi-page file', src([{ page: 2 }, { page: 'name-layer-4' }])],
  // video
  ['video trim, codecs', src([{ startOffset: 5, endOffset: 10.5, videoCodec: 'h264', audioCodec: 'none' }, { duration: 'bdu_div_2' }], { src: '/video.mp4' })],
  ['adaptive bitrate streaming', src([{ streamingResolutions: ['240', '360', '480', '720', '1080'] }], { src: '/video.mp4/ik-master.m3u8' })],
  // chains and raw
  ['three chained steps', src([{ width: 400, height: 300 }, { rotation: 90 }, { format: 'webp', quality: 70 }])],
  ['raw parameters mixed in', src([{ width: 200, raw: 'e-sharpen-5,l-text,i-hi,l-end' }, { raw: 'q-20' }])],
  // overlays
  ['text overlay with position and styling', src([{ overlay: { type: 'text', text: 'Hello World', position: { x: 10, y: 20, focus: 'center' }, transformation: [{ fontSize: 40, fontColor: 'FF0000', padding: '10_20', typography: 'b_i', background: 'FFFFFF80', radius: 5 }] } }])],
  ['text overlay needing base64 (punctuation, unicode)', src([{ overlay: { type: 'text', text: 'Sale: 50% off, today! — ünïcode ✓' } }])],
  ['text overlay with explicit encodings', src([{ overlay: { type: 'text', text: 'a b', encoding: 'base64' } }, { overlay: { type: 'text', text: 'x/y&z', encoding: 'plain' } }])],
  ['text overlay styling: width, flip, lineHeight, alpha, innerAlignment, rotation', src([{ overlay: { type: 'text', text: 'Multi line text', transformation: [{ width: 'bw_mul_0.5', innerAlignment: 'left', lineHeight: 20, alpha: 5, rotation: 'N15', flip: 'h', fontFamily: 'Roboto' }] } }])],
  ['image overlay with anchor and nested transformations', src([{ width: 500, overlay: { type: 'image', input: '/logos/brand.png', position: { x: 10, y: 'bh_sub_ch', anchorPoint: 'bottom_right' }, transformation: [{ width: 100, height: 50 }, { rotation: 45 }] } }])],
  ['image overlay path needing base64', src([{ overlay: { type: 'image', input: 'folder/my,image@2x.png' } }])],
  ['image overlay with explicit encodings', src([{ overlay: { type: 'image', input: '/a/b/c.png', encoding: 'base64' } }, { overlay: { type: 'image', input: 'a/b c.png', encoding: 'plain' } }])],
  ['image overlay with centre coordinates and layer mode', src([{ overlay: { type: 'image', input: 'mask.png', layerMode: 'cutout', position: { xCenter: 'bw_mul_0.4', yCenter: 'bh_div_2' } } }])],
  ['overlay inside an overlay', src([{ overlay: { type: 'image', input: 'card.png', transformation: [{ width: 300, overlay: { type: 'text', text: 'Nested', position: { focus: 'top' } } }] } }])],
  ['video overlay with timing', src([{ overlay: { type: 'video', input: '/clips/intro.mp4', position: { x: 0, y: 10 }, timing: { start: 2, end: 'bdu_sub_2', duration: 5 }, transformation: [{ width: 200, startOffset: 1 }] } }], { src: '/video.mp4' })],
  ['subtitle overlay with styling', src([{ overlay: { type: 'subtitle', input: 'subs/english.srt', timing: { start: 1.5 }, transformation: [{ background: 'blue', fontSize: 16, fontFamily: 'Roboto', color: 'FFFFFF', typography: 'b', fontOutline: '2_A1CCDD', fontShadow: 'A1CCDD50_3' }] } }], { src: '/video.mp4' })],
  ['solid color overlay with styling and layer mode', src([{ overlay: { type: 'solidColor', color: 'FF0000', layerMode: 'multiply', position: { x: 50, y: 50, anchorPoint: 'center' }, transformation: [{ width: 100, height: 'bh_div_4', radius: 'max', alpha: 5, background: '00FF00', gradient: true }] } }])],
  ['solid color overlay with gradient string', src([{ overlay: { type: 'solidColor', color: 'FFAABB50', transformation: [{ width: 50, gradient: 'ld-bottom' }] } }])],
  ['overlays in a chain', src([{ width: 800 }, { overlay: { type: 'text', text: 'one' } }, { overlay: { type: 'image', input: 'two.png' } }])],
  // URL shape
  ['path position', src([{ width: 300, height: 200 }], { transformationPosition: 'path' })],
  ['path position, endpoint with trailing slash, src without leading slash', src([{ width: 300 }, { rotation: 90 }], { urlEndpoint: `${ENDPOINT}/`, src: 'folder/sample.jpg', transformationPosition: 'path' })],
  ['query position explicit', src([{ width: 300 }], { transformationPosition: 'query' })],
  ['endpoint with a nested path', src([{ width: 300 }], { urlEndpoint: 'https://media.example.com/tessera/prod', transformationPosition: 'path' })],
  ['absolute src, path position forced into the query', src([{ width: 300 }], { src: 'https://cdn.example.com/images/a.jpg', transformationPosition: 'path' })],
  ['absolute src with existing query and queryParameters', src([{ width: 300 }], { src: 'https://cdn.example.com/a.jpg?foo=bar', queryParameters: { v: '2', lang: 'en' } })],
  ['queryParameters with query transformation', src([{ height: 120 }], { queryParameters: { version: '5', 'a b': 'c d&e' } })],
  ['queryParameters with path transformation', src([{ height: 120 }], { queryParameters: { version: '5' }, transformationPosition: 'path' })],
  ['no transformation', { urlEndpoint: ENDPOINT, src: '/plain.png' }],
  ['empty steps are skipped', src([{}, { width: 10 }, {}])],
  ['src with spaces and unicode', src([{ width: 10 }], { src: '/folder name/ünïcode file.jpg' })],
  ['src with duplicate slashes', src([{ width: 10 }], { src: '//double//slash.jpg', transformationPosition: 'path' })],
  // signed, no expiry (clock-independent)
  ['signed, no expiry, query', src([{ width: 400 }], { signed: true })],
  ['signed, no expiry, path', src([{ width: 400, height: 300 }], { signed: true, transformationPosition: 'path' })],
  ['signed, no transformation', { urlEndpoint: ENDPOINT, src: '/private/file.pdf', signed: true }],
  ['signed with queryParameters', src([{ width: 400 }], { signed: true, queryParameters: { v: '3' } })],
  ['signed with endpoint trailing slash', src([{ width: 400 }], { signed: true, urlEndpoint: `${ENDPOINT}/`, transformationPosition: 'path' })],
  ['signed absolute src under the endpoint', src([{ width: 400 }], { signed: true, src: `${ENDPOINT}/abs/sample.jpg` })],
  ['signed with overlays', src([{ overlay: { type: 'text', text: 'Signed, sealed' } }], { signed: true })],
];

// name → options; evaluated with the clock frozen at FROZEN_NOW.
const TIMED_CASES: Array<[string, SrcOptions]> = [
  ['signed with expiresIn, query', src([{ width: 400 }], { signed: true, expiresIn: 300 })],
  ['signed with expiresIn, path', src([{ width: 400 }], { signed: true, expiresIn: 3600, transformationPosition: 'path' })],
  ['expiresIn alone implies signing', src([{ width: 400 }], { expiresIn: 60 })],
  ['expiresIn with a fraction', src([{ width: 400 }], { signed: true, expiresIn: 300.7 })],
  ['expiresIn below one second means no expiry', src([{ width: 400 }], { signed: true, expiresIn: 0.5 })],
  ['signed with expiresIn and queryParameters', src([{ width: 400 }], { expiresIn: 120, queryParameters: { v: '9' } })],
  ['signed with expiresIn and no transformation', { urlEndpoint: ENDPOINT, src: '/private/file.pdf', expiresIn: 600 }],
];

describe('buildSrc matches the official helper', () => {
  for (const [name, options] of CASES) {
    test(name, () => {
      const expected = officialSrc(options);
      assert.notEqual(expected, '', 'the official helper produced a URL');
      assert.equal(ours(options), expected);
    });
  }

  describe('with the clock frozen', () => {
    for (const [name, options] of TIMED_CASES) {
      test(name, (t) => {
        t.mock.timers.enable({ apis: ['Date'], now: FROZEN_NOW });
        const expected = officialSrc(options);
        assert.equal(ours(options), expected);
      });
    }

    test('expireSeconds is an alias of expiresIn', (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: FROZEN_NOW });
      const expected = officialSrc(src([{ width: 1 }], { expiresIn: 300 }));
      assert.equal(ours(src([{ width: 1 }], { expireSeconds: 300 })), expected);
      assert.match(expected, new RegExp(`ik-t=${FROZEN_NOW / 1000 + 300}&ik-s=[0-9a-f]{40}$`));
    });
  });

  test(`covers at least 30 cases (${CASES.length + TIMED_CASES.length + 1})`, () => {
    assert.ok(CASES.length + TIMED_CASES.length >= 30);
  });
});

describe('buildTransformationString matches the official helper', () => {
  for (const [name, options] of [...CASES, ...TIMED_CASES]) {
    test(name, () => {
      const steps = options.transformation;
      assert.equal(buildTransformationString(steps), official.helper.buildTransformationString(structuredClone(steps) as OfficialSrcOptions['transformation']));
    });
  }

  test('unknown parameter names pass through, as the official helper does', () => {
    const steps = [{ w: 100, 'e-custom': 'x' }] as unknown as Transformation[];
    assert.equal(buildTransformationString(steps), official.helper.buildTransformationString(steps as OfficialSrcOptions['transformation']));
    assert.equal(buildTransformationString(steps), 'w-100,e-custom-x');
  });

  test('undefined or non-array input gives an empty string', () => {
    assert.equal(buildTransformationString(undefined), '');
    assert.equal(buildTransformationString([]), '');
  });
});

describe('buildSrc: documented examples', () => {
  test('ImageKit docs: chained steps', () => {
    assert.equal(buildTransformationString([{ width: 300, height: 200 }, { rotation: 90 }]), 'w-300,h-200:rt-90');
  });

  test('text overlay in plain and base64 form', () => {
    assert.equal(buildTransformationString([{ overlay: { type: 'text', text: 'Hi there' } }]), 'l-text,i-Hi%20there,l-end');
    // "a,b" base64 is "YSxi"
    assert.equal(buildTransformationString([{ overlay: { type: 'text', text: 'a,b' } }]), 'l-text,ie-YSxi,l-end');
  });

  test('image overlay path: slashes become @@', () => {
    assert.equal(buildTransformationString([{ overlay: { type: 'image', input: '/a/b.png', position: { x: 5 } } }]), 'l-image,i-a@@b.png,lx-5,l-end');
  });

  test('solid color block', () => {
    assert.equal(buildTransformationString([{ overlay: { type: 'solidColor', color: 'red', transformation: [{ width: 10, height: 20 }] } }]), 'l-image,i-ik_canvas,bg-red,w-10,h-20,l-end');
  });

  test('path form keeps the endpoint path and puts tr: before the file', () => {
    assert.equal(
      buildSrc({ urlEndpoint: 'https://media.example.com/t', src: '/a.jpg', transformation: [{ width: 1 }], transformationPosition: 'path' }),
      'https://media.example.com/t/tr:w-1/a.jpg',
    );
  });

  test('signature: HMAC-SHA1 of the endpoint-relative URL and the expiry', async () => {
    const { createHmac } = await import('node:crypto');
    const url = `${ENDPOINT}/tr:w-400/sample.jpg`;
    const expected = createHmac('sha1', PRIVATE_KEY).update('tr:w-400/sample.jpg9999999999').digest('hex');
    assert.equal(signUrl(url, ENDPOINT, PRIVATE_KEY, 9999999999), expected);
    assert.equal(ours(src([{ width: 400 }], { signed: true, transformationPosition: 'path' })), `${url}?ik-s=${expected}`);
  });
});

describe('buildSrc: where we deliberately differ from the official helper', () => {
  test('empty src or an unparsable endpoint gives "" (same as official)', () => {
    assert.equal(buildSrc({ urlEndpoint: ENDPOINT, src: '' }), '');
    assert.equal(buildSrc({ urlEndpoint: 'not a url', src: '/a.jpg' }), '');
  });

  test('signing without a private key throws instead of emitting an empty ik-s', () => {
    assert.throws(() => buildSrc({ urlEndpoint: ENDPOINT, src: '/a.jpg', signed: true }), /privateKey/);
  });

  test('a fragment stays at the end and out of the signature', () => {
    const url = buildSrc({ urlEndpoint: ENDPOINT, src: 'https://ik.imagekit.io/demo/a.jpg#top', transformation: [{ width: 5 }], signed: true, privateKey: PRIVATE_KEY });
    const unsigned = `${ENDPOINT}/a.jpg?tr=w-5`;
    assert.equal(url, `${unsigned}&ik-s=${signUrl(unsigned, ENDPOINT, PRIVATE_KEY, 9999999999)}#top`);
  });

  test('`false` on a value-optional effect means "not applied" rather than e-sharpen-false', () => {
    const steps = [{ sharpen: false, width: 1 }] as unknown as Transformation[];
    assert.equal(buildTransformationString(steps), 'w-1');
  });

  test('an empty raw string adds nothing', () => {
    assert.equal(buildTransformationString([{ width: 1, raw: '' }]), 'w-1');
  });

  test('replacement patterns in a transformation are inserted literally', () => {
    const url = buildSrc({ urlEndpoint: ENDPOINT, src: '/a.jpg', transformation: [{ raw: "x-$&$'" }], transformationPosition: 'path' });
    assert.equal(url, `${ENDPOINT}/tr:x-$&$'/a.jpg`);
  });

  test('the frozen clock does not leak out of the timed cases', () => {
    assert.ok(Date.now() > FROZEN_NOW);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildTransformationString } from '@tessera/sdk';
import { ApiError } from '../../src/errors/index.js';
import {
  canonicalTransformation,
  DEFAULT_NAMED_TRANSFORMATIONS,
  evaluateExpression,
  PARAMETERS,
  parseTransformation,
  type TransformStep,
} from '../../src/transform/parse/index.js';

const is400 = (pattern?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ApiError, `expected an ApiError, got ${String(e)}`);
  assert.equal(e.status, 400);
  if (pattern) assert.match(e.message, pattern);
  return true;
};

const canon = (tr: string, opts?: Parameters<typeof parseTransformation>[1]) => canonicalTransformation(parseTransformation(tr, opts));
const first = (tr: string) => (parseTransformation(tr)[0] as TransformStep).params;

/** One valid example per supported key, in a context where the key is allowed. */
const EXAMPLES: Record<string, string[]> = {
  orig: ['orig-true', 'orig-false'],
  w: ['w-300', 'w-0.4', 'w-iw_div_2', 'w-auto'],
  h: ['h-200', 'h-0.5', 'h-ih_mul_0.5'],
  ar: ['w-400,ar-4-3', 'h-300,ar-4_3', 'w-100,ar-1.5', 'w-100,ar-iar_div_2'],
  c: ['w-100,h-100,c-maintain_ratio', 'w-100,c-maintain_ratio_no_enlarge', 'w-1,h-1,c-force', 'c-at_max', 'c-at_max_enlarge', 'c-at_least'],
  cm: ['cm-pad_resize', 'cm-pad_resize_no_enlarge', 'cm-extract', 'cm-pad_extract', 'cm-pad_extract_no_shrink'],
  fo: ['fo-center', 'fo-top', 'fo-left', 'fo-bottom', 'fo-right', 'fo-top_left', 'fo-top_right', 'fo-bottom_left', 'fo-bottom_right', 'fo-auto', 'fo-face', 'fo-custom'],
  x: ['x-10', 'x-iw_sub_cw'],
  y: ['y-0', 'y-ih_mul_0.2'],
  xc: ['xc-300', 'xc-cw_mul_0.25'],
  yc: ['yc-500'],
  z: ['z-0.5', 'z-2'],
  dpr: ['w-100,dpr-2', 'w-100,dpr-0.1', 'w-100,dpr-auto', 'w-100,dpr-iw_div_iw'],
  rt: ['rt-90', 'rt-N40', 'rt-auto', 'rt-12.5'],
  fl: ['fl-h', 'fl-v', 'fl-h_v', 'fl-v_h'],
  t: ['t-true', 't-false', 't-5', 't-99'],
  bg: ['bg-F3F3F3', 'bg-AAFF0040', 'bg-lightgreen', 'bg-dominant'],
  bl: ['bl-1', 'bl-10', 'bl-100'],
  'e-grayscale': ['e-grayscale'],
  'e-contrast': ['e-contrast'],
  'e-sharpen': ['e-sharpen', 'e-sharpen-10'],
  'e-usm': ['e-usm', 'e-usm-2-2-0.8-0.024'],
  o: ['o-0', 'o-50', 'o-100'],
  b: ['b-5_FFF000', 'b-20_red', 'b-ch_mod_5_yellow', 'b-3_AAFF0040'],
  r: ['r-20', 'r-max', 'r-10_20_30_40'],
  'e-gradient': ['e-gradient', 'e-gradient-ld-top_right_from-FF000040_to-00FF0040_sp-0.9', 'e-gradient-ld-45', 'e-gradient-from-green_to-00FF0010_sp-1', 'e-gradient-sp-100'],
  'e-shadow': ['e-shadow', 'e-shadow-bl-15_st-40_x-10_y-N5', 'e-shadow-st-0'],
  fs: ['l-text,i-a,fs-45,l-end', 'l-text,i-a,fs-bh_div_20,l-end'],
  ff: ['l-text,i-a,ff-Open Sans,l-end', 'l-text,i-a,ff-AbrilFatFace,l-end', 'l-text,i-a,ff-PT_Serif,l-end'],
  co: ['l-text,i-a,co-FF0000,l-end', 'l-text,i-a,co-red,l-end', 'l-text,i-a,co-FFAABB50,l-end'],
  ia: ['l-text,i-a,ia-left,l-end', 'l-text,i-a,ia-right,l-end', 'l-text,i-a,ia-center,l-end'],
  pa: ['l-text,i-a,pa-10,l-end', 'l-text,i-a,pa-25_50_75_100,l-end', 'l-text,i-a,pa-25_75,l-end', 'l-text,i-a,pa-bw_mul_0.01,l-end'],
  al: ['l-text,i-a,al-5,l-end', 'l-image,i-ik_canvas,al-9,l-end'],
  tg: ['l-text,i-a,tg-b,l-end', 'l-text,i-a,tg-i,l-end', 'l-text,i-a,tg-b_i,l-end', 'l-text,i-a,tg-b_i_strikethrough,l-end'],
  lh: ['l-text,i-a,lh-20,l-end'],
  q: ['q-1', 'q-80', 'q-100'],
  f: ['f-auto', 'f-jpg', 'f-png', 'f-webp', 'f-avif', 'f-gif', 'f-orig', 'f-svg', 'f-mp4', 'f-webm'],
  pr: ['pr-true', 'pr-false'],
  lo: ['lo-true', 'lo-false'],
  md: ['md-true', 'md-false'],
  cp: ['cp-true', 'cp-false'],
  di: ['di-medium_cafe.jpg', 'di-@@path@@to@@image.jpg'],
  pg: ['pg-2'],
  vc: ['vc-h264', 'vc-none'],
  ac: ['ac-aac', 'ac-opus'],
  so: ['so-5', 'so-10.5'],
  eo: ['eo-20'],
  du: ['du-5'],
  sr: ['sr-240_360_720'],
  i: ['l-image,i-logo.png,l-end', 'l-image,i-folder@@logo.png,l-end', 'l-image,i-ik_canvas,l-end', 'l-text,i-hello,l-end'],
  ie: ['l-image,ie-bG9nby5wbmc%3D,l-end', 'l-text,ie-aGVsbG8%3D,l-end'],
  lx: ['l-image,i-a.png,lx-35,l-end', 'l-image,i-a.png,lx-N35,l-end', 'l-image,i-a.png,lx-bw_mul_0.9,l-end'],
  ly: ['l-image,i-a.png,ly-N0,l-end', 'l-image,i-a.png,ly-bh_div_2,l-end'],
  lxc: ['l-image,i-a.png,lxc-bw_div_2,l-end'],
  lyc: ['l-image,i-a.png,lyc-100,l-end'],
  lfo: ['l-image,i-a.png,lfo-top_left,l-end', 'l-image,i-a.png,lfo-bottom_right,l-end'],
  lap: ['l-image,i-a.png,lx-10,lap-bottom_right,l-end', 'l-image,i-a.png,lx-10,lap-center,l-end'],
  lm: ['l-image,i-a.png,lm-multiply,l-end', 'l-image,i-a.png,lm-cutter,l-end', 'l-image,i-a.png,lm-cutout,l-end'],
  lso: ['l-image,i-a.png,lso-5,l-end'],
  leo: ['l-image,i-a.png,leo-10,l-end'],
  ldu: ['l-image,i-a.png,ldu-3,l-end'],
  n: ['n-ik_ml_thumbnail'],
};

describe('every key of the table', () => {
  test('has examples here, and every example parses and round-trips through the canonical form', () => {
    const supported = PARAMETERS.filter((p) => !p.refuse).map((p) => p.key);
    assert.deepEqual(supported.filter((k) => !EXAMPLES[k]), [], 'keys without examples');
    for (const [key, examples] of Object.entries(EXAMPLES)) {
      for (const tr of examples) {
        const c = canon(tr);
        assert.notEqual(c, '', `${key}: ${tr}`);
        assert.equal(canon(c), c, `canonical form of ${tr} is stable`);
      }
    }
  });

  test('typed values', () => {
    assert.deepEqual(first('w-300').width, { kind: 'px', value: 300 });
    assert.deepEqual(first('w-0.4').width, { kind: 'fraction', value: 0.4 });
    assert.deepEqual(first('w-iw_div_2').width, { kind: 'expr', operands: ['iw', 2], operators: ['div'] });
    assert.deepEqual(first('w-400,ar-4-3').aspectRatio, { kind: 'ratio', value: 4 / 3, text: '4-3' });
    assert.deepEqual(first('rt-N40').rotation, { kind: 'angle', degrees: 320 });
    assert.deepEqual(first('rt-auto').rotation, { kind: 'auto' });
    assert.deepEqual(first('fl-h').flip, { horizontal: true, vertical: false });
    assert.deepEqual(first('t-true').trim, { enabled: true, threshold: 10 });
    assert.deepEqual(first('t-5').trim, { enabled: true, threshold: 5 });
    assert.deepEqual(first('r-max').radius, { kind: 'max' });
    assert.deepEqual(first('r-10_20_30_40').radius, { kind: 'corners', tl: 10, tr: 20, br: 30, bl: 40 });
    const bg = first('bg-AAFF0040').background;
    assert.ok(bg?.kind === 'color');
    assert.deepEqual([bg.color.r, bg.color.g, bg.color.b, bg.color.alpha], [170, 255, 0, 0.4]);
    assert.deepEqual(first('b-5_FFF000').border?.width, { kind: 'num', value: 5 });
    assert.deepEqual(first('e-sharpen').sharpen, { amount: null });
    assert.deepEqual(first('e-sharpen-10').sharpen, { amount: 10 });
    assert.deepEqual(first('e-usm-2-2-0.8-0.024').unsharpMask, { radius: 2, sigma: 2, amount: 0.8, threshold: 0.024 });
    assert.deepEqual(first('e-shadow').shadow, { blur: 10, saturation: 30, x: 2, y: 2 });
    assert.deepEqual(first('e-shadow-bl-15_st-40_x-10_y-N5').shadow, { blur: 15, saturation: 40, x: 10, y: -5 });
    const g = first('e-gradient-ld-top_right_from-FF000040_to-00FF0040_sp-0.9').gradient;
    assert.equal(g?.direction, 45);
    assert.equal(g?.from.alpha, 0.4);
    assert.deepEqual(g?.stop, { kind: 'num', value: 0.9 });
    assert.equal(first('e-gradient').gradient?.direction, 180);
    assert.equal(first('q-80').quality, 80);
    assert.equal(first('pr-true').progressive, true);
    assert.equal(first('di-@@path@@to@@image.jpg').defaultImage, '/path/to/image.jpg');
    assert.deepEqual(first('vc-h264,so-5').video, { vc: 'h264', so: '5' });
  });

  test('value aliases normalise to one canonical spelling', () => {
    assert.equal(canon('f-jpeg'), 'f-jpg');
    assert.equal(canon('rt-N90'), 'rt-270');
    assert.equal(canon('rt-450'), 'rt-90');
    assert.equal(canon('w-100,ar-4_3'), canon('w-100,ar-4-3'));
    assert.equal(canon('e-gradient-ld-topleft'), canon('e-gradient-ld-top_left'));
    assert.equal(canon('e-gradient-ld-top_left'), canon('e-gradient-ld-315'));
    assert.equal(canon('e-usm'), canon('e-usm-2-2-0.8-0.024'));
    assert.equal(canon('e-shadow'), canon('e-shadow-bl-10_st-30_x-2_y-2'));
    assert.equal(canon('bg-f3f3f3'), 'bg-F3F3F3');
    assert.equal(canon('bg-Red'), 'bg-red');
    assert.equal(canon('w-300.0'), 'w-300');
    assert.equal(canon('fo-TOP'), 'fo-top');
    assert.equal(canon('r-5_5_5_5'), 'r-5');
    assert.equal(canon('l-text,i-a,pa-10_10,l-end'), canon('l-text,i-a,pa-10,l-end'));
  });
});

describe('canonical form', () => {
  test('parameter order within a step never changes it', () => {
    const params = ['w-300', 'h-200', 'c-at_max', 'fo-top', 'q-70', 'bg-FF0000', 'e-grayscale', 'r-20', 'b-2_red', 'f-webp'];
    const expected = canon(params.join(','));
    for (let i = 0; i < 20; i++) {
      const shuffled = [...params].sort(() => Math.sin(i * 97 + params.length) - 0.5 + Math.random() - 0.5);
      assert.equal(canon(shuffled.join(',')), expected);
    }
    assert.equal(canon('h-200,w-300:e-grayscale'), canon('w-300,h-200:e-grayscale'));
    assert.equal(canon('l-image,i-a.png,ly-5,lx-10,w-20,l-end'), canon('l-image,i-a.png,w-20,lx-10,ly-5,l-end'));
  });

  test('step order, layer order and values still matter', () => {
    assert.notEqual(canon('w-300:rt-90'), canon('rt-90:w-300'));
    assert.notEqual(canon('l-image,i-a.png,l-end,l-image,i-b.png,l-end'), canon('l-image,i-b.png,l-end,l-image,i-a.png,l-end'));
    assert.notEqual(canon('w-300'), canon('w-301'));
  });

  test('named transformations are expanded, so the key follows their definition', () => {
    const named = new Map([['thumb', 'w-100,h-100']]);
    assert.equal(canon('n-thumb', { named }), 'w-100,h-100');
    assert.equal(canon('n-thumb', { named: new Map([['thumb', 'w-120,h-100']]) }), 'w-120,h-100');
  });

  test('empty steps and the tr: prefix are ignored', () => {
    assert.equal(canon('tr:w-300::h-10:'), 'w-300:h-10');
    assert.equal(canon(''), '');
  });
});

describe('invalid input is a 400 naming the key and what is accepted', () => {
  const cases: Array<[string, RegExp]> = [
    ['foo-1', /Unknown transformation parameter "foo".*Supported parameters: .*\bw\b/],
    ['w-abc', /"w".*pixels/],
    ['w-0', /"w"/],
    ['w--5', /"w"/],
    ['w-20000', /"w".*10000/],
    ['h-1e3', /"h"/],
    ['c-squash', /"c".*at_max/],
    ['cm-fill', /"cm".*pad_resize/],
    ['fo-middle', /"fo".*top_left/],
    ['fo-person', /AI/],
    ['q-0', /"q".*1 to 100/],
    ['q-101', /"q"/],
    ['q-50.5', /"q"/],
    ['f-bmp', /"f".*webp/],
    ['pr-yes', /"pr".*true/],
    ['bl-0', /"bl"/],
    ['bl-101', /"bl"/],
    ['dpr-6', /"dpr".*0.1 to 5/],
    ['z-0', /"z"/],
    ['rt-abc', /"rt".*degrees/],
    ['fl-x', /"fl"/],
    ['t-100', /"t".*1 to 99/],
    ['o-101', /"o"/],
    ['bg-GG0000', /"bg".*hex/],
    ['bg-FF000', /"bg"/],
    ['bg-FF0000AA', /"bg"/],
    ['bg-blurred', /"bg".*solid colours/],
    ['bg-notacolor', /"bg"/],
    ['b-5', /"b".*<width>_<colour>/],
    ['b-x_red', /"b"/],
    ['b-5_nocolor', /"b"/],
    ['r-abc', /"r".*max/],
    ['r-1_2_3', /"r"/],
    ['e-sharpen-abc', /"e-sharpen"/],
    ['e-usm-1-2-3', /"e-usm".*four/],
    ['e-shadow-bl-20', /"e-shadow"/],
    ['e-shadow-zz-1', /"e-shadow"/],
    ['e-gradient-ld-up', /"e-gradient"/],
    ['e-gradient-from-nocolor', /"e-gradient"/],
    ['e-grayscale-5', /takes no value/],
    ['e-frobnicate', /Unknown transformation parameter.*Supported effects/],
    ['w', /needs a value/],
    ['w-100,w-200', /given twice/],
    ['ar-4-3', /"ar" must be used together with "w" or "h"/],
    ['w-100,ar-0-3', /"ar"/],
    ['pg-2-3', /"pg".*page/],
    ['di-@@..@@x.jpg', /"di"/],
    ['vc-mpeg2', /"vc"/],
    ['sr-999', /"sr"/],
  ];
  for (const [tr, pattern] of cases) {
    test(tr, () => assert.throws(() => parseTransformation(tr), is400(pattern)));
  }

  test('recognised but unsupported features are refused with the reason', () => {
    for (const key of ['e-upscale', 'e-retouch', 'e-genvar', 'e-dropshadow', 'e-changebg-prompt-x', 'e-edit-prompt-x', 'e-bgremove', 'e-removedotbg']) {
      assert.throws(() => parseTransformation(key), is400(/AI transformation/), key);
    }
    assert.throws(() => parseTransformation('e-colorize-co-red'), is400(/not supported/));
    assert.throws(() => parseTransformation('e-distort-a-10'), is400(/not supported/));
    assert.throws(() => parseTransformation('cr-red'), is400(/not supported/));
    assert.throws(() => parseTransformation('if-ar_gt_1,w-200,if-end'), is400(/conditional/));
    assert.throws(() => parseTransformation('oi-logo.png,ox-10'), is400(/legacy overlay/));
    assert.throws(() => parseTransformation('l-solid,bg-red,l-end'), is400(/i-ik_canvas/));
    assert.throws(() => parseTransformation('l-text,i-a,ff-my-font.ttf,l-end'), is400(/custom font/));
  });

  test('parameters outside the context they belong to', () => {
    assert.throws(() => parseTransformation('lx-10'), is400(/only valid inside a layer/));
    assert.throws(() => parseTransformation('i-logo.png'), is400(/only valid inside a layer/));
    assert.throws(() => parseTransformation('fs-20'), is400(/"fs" is not supported outside layers; it is valid in a text layer/));
    assert.throws(() => parseTransformation('l-image,i-a.png,f-png,l-end'), is400(/"f" is not supported in an image layer/));
    assert.throws(() => parseTransformation('l-text,i-a,h-20,l-end'), is400(/"h" is not supported in a text layer/));
    assert.throws(() => parseTransformation('l-image,i-ik_canvas,e-grayscale,l-end'), is400(/solid-colour layer/));
  });

  test('expression variables are checked against where they are used', () => {
    assert.throws(() => parseTransformation('w-bw_div_2'), is400(/only be used inside a layer/));
    assert.throws(() => parseTransformation('l-text,i-a,fs-ih_div_10,l-end'), is400(/only bw, bh and bar/));
    assert.throws(() => parseTransformation('w-iw_plus_2'), is400(/"w"/));
    assert.throws(() => parseTransformation('w-iw_div'), is400(/"w"/));
    assert.doesNotThrow(() => parseTransformation('l-image,i-a.png,w-bw_div_2,lx-bw_sub_cw,l-end'));
  });
});

describe('layers', () => {
  test('an image layer with its own steps and position', () => {
    const [step] = parseTransformation('w-300,h-300,l-image,i-folder@@logo.png,w-10,rt-90,lx-N35,ly-20,lfo-top,l-end');
    assert.deepEqual(step?.params.width, { kind: 'px', value: 300 });
    const layer = step?.layers[0];
    assert.equal(layer?.type, 'image');
    assert.deepEqual(layer?.input, { kind: 'path', path: '/folder/logo.png', encoded: false });
    assert.deepEqual(layer?.position.x, { negative: true, amount: { kind: 'num', value: 35 } });
    assert.equal(layer?.position.focus, 'top');
    assert.deepEqual(layer?.steps[0]?.params.rotation, { kind: 'angle', degrees: 90 });
    assert.equal(layer?.steps[0]?.params.width?.kind, 'px');
  });

  test('text layers decode their input after splitting, so an encoded comma stays text', () => {
    const [step] = parseTransformation('l-text,i-Hello%2C%20World%3A%20hi,fs-20,co-FFFFFF,l-end');
    assert.deepEqual(step?.layers[0]?.input, { kind: 'text', text: 'Hello, World: hi', encoded: false });
    const [b64] = parseTransformation('l-text,ie-aGVsbG8%3D,l-end');
    assert.deepEqual(b64?.layers[0]?.input, { kind: 'text', text: 'hello', encoded: true });
    const long = Buffer.from('x'.repeat(200)).toString('base64');
    const [truncated] = parseTransformation(`l-text,ie-${encodeURIComponent(long)},l-end`);
    assert.equal((truncated?.layers[0]?.input as { text: string }).text.length, 144);
  });

  test('solid colour blocks are image layers over ik_canvas', () => {
    const [step] = parseTransformation('l-image,i-ik_canvas,bg-FF0000,w-300,h-100,al-5,r-10,l-end');
    const layer = step?.layers[0];
    assert.deepEqual(layer?.input, { kind: 'canvas' });
    assert.equal(layer?.steps[0]?.params.alpha, 5);
  });

  test('nested layers and chained steps inside a layer', () => {
    const tr =
      'l-image,i-women-dress.jpeg,w-bw_div_3,b-iw_mul_0.02_red,lx-bw_mul_0.1,ly-bh_mul_0.1:l-image,i-logo.png,w-bw_div_2,lfo-top_right,l-end,l-end:rt-90';
    const steps = parseTransformation(tr);
    assert.equal(steps.length, 2);
    const outer = steps[0]?.layers[0];
    assert.equal(outer?.steps.length, 2);
    assert.ok(outer?.position.x);
    const inner = outer?.steps[1]?.layers[0];
    assert.deepEqual(inner?.input, { kind: 'path', path: '/logo.png', encoded: false });
    assert.equal(inner?.position.focus, 'top_right');
    assert.deepEqual(steps[1]?.params.rotation, { kind: 'angle', degrees: 90 });
    assert.equal(canon(canon(tr)), canon(tr));
  });

  test('nesting is limited to three levels', () => {
    const nest = (n: number): string => (n === 0 ? '' : `l-image,i-a.png,${nest(n - 1)}l-end,`);
    assert.doesNotThrow(() => parseTransformation(nest(3)));
    assert.throws(() => parseTransformation(nest(4)), is400(/at most 3 levels/));
  });

  test('malformed layers', () => {
    assert.throws(() => parseTransformation('l-image,i-a.png,w-10'), is400(/not closed with "l-end"/));
    assert.throws(() => parseTransformation('w-10,l-end'), is400(/no layer is open/));
    assert.throws(() => parseTransformation('l-image,w-10,l-end'), is400(/needs an input/));
    assert.throws(() => parseTransformation('l-image,i-a.png,i-b.png,l-end'), is400(/twice/));
    assert.throws(() => parseTransformation('l-image,i-a.png,lx-1,lxc-2,l-end'), is400(/lx and lxc/));
    assert.throws(() => parseTransformation('l-sticker,i-a,l-end'), is400(/Unknown layer type/));
    assert.throws(() => parseTransformation('l-image,i-..@@secret.png,l-end'), is400(/"i"/));
    assert.throws(() => parseTransformation('l-image,ie-!!!,l-end'), is400(/base64/));
  });
});

describe('named transformations', () => {
  test('ik_ml_thumbnail is built in and can be overridden', () => {
    assert.equal(DEFAULT_NAMED_TRANSFORMATIONS.ik_ml_thumbnail, 'w-300,h-300,c-at_max');
    assert.equal(canon('n-ik_ml_thumbnail'), 'w-300,h-300,c-at_max');
    assert.equal(canon('n-ik_ml_thumbnail', { named: { ik_ml_thumbnail: 'w-50' } }), 'w-50');
  });

  test('lookups by Map or record; tr: prefix and chains in definitions', () => {
    assert.equal(canon('n-blur_thumbnail', { named: { blur_thumbnail: 'tr:w-300,h-200,bl-10' } }), 'w-300,h-200,bl-10');
    const named = new Map([['two', 'w-100:rt-90']]);
    assert.equal(canon('n-two:e-grayscale', { named }), 'w-100:rt-90:e-grayscale');
  });

  test('parameters beside n-… refine its last step', () => {
    const named = new Map([['thumb', 'w-100,h-100,q-50']]);
    assert.equal(canon('n-thumb,q-90,f-png', { named }), 'w-100,h-100,q-90,f-png');
  });

  test('unknown, self-referencing or invalid names are a 400', () => {
    assert.throws(() => parseTransformation('n-nope'), is400(/named transformation "nope" does not exist/));
    assert.throws(() => parseTransformation('n-a', { named: { a: 'n-b', b: 'n-a' } }), is400(/refers to itself/));
    assert.throws(() => parseTransformation('n-bad', { named: { bad: 'w-abc' } }), is400(/"w"/));
    assert.throws(() => parseTransformation('n-a,n-b', { named: { a: 'w-1', b: 'h-1' } }), is400(/only one named/));
    assert.throws(() => parseTransformation('n-a!b'), is400(/Invalid named/));
  });
});

describe('limits', () => {
  test('string length', () => {
    assert.throws(() => parseTransformation(`w-1,${'q-80,'.repeat(1000)}`), is400(/characters long/));
    assert.throws(() => parseTransformation('w-100,h-100', { limits: { maxLength: 5 } }), is400(/at most 5/));
  });
  test('steps, layers and dimensions', () => {
    assert.throws(() => parseTransformation(Array(30).fill('q-80').join(':')), is400(/steps/));
    assert.doesNotThrow(() => parseTransformation(Array(24).fill('q-80').join(':')));
    assert.throws(() => parseTransformation('l-image,i-a.png,l-end,'.repeat(17)), is400(/layers/));
    assert.throws(() => parseTransformation('w-5000', { limits: { maxDimension: 4000 } }), is400(/1–4000/));
    assert.throws(() => parseTransformation('n-many', { named: { many: Array(20).fill('q-80').join(':') }, limits: { maxSteps: 10 } }), is400(/steps/));
  });
});

describe('arithmetic expressions', () => {
  const ev = (text: string, vars = {}) => {
    const w = first(`w-${text}`).width;
    assert.ok(w?.kind === 'expr');
    return evaluateExpression(w, vars);
  };
  test('documented precedence: mul/div, then add/sub, then mod, then pow', () => {
    assert.equal(ev('iw_div_2', { iw: 600 }), 300);
    assert.equal(ev('ih_mul_0.8_add_iw_mul_0.4', { ih: 100, iw: 50 }), 100);
    assert.equal(ev('2_add_3_mul_4'), 14);
    assert.equal(ev('10_mod_4_add_2'), 4); // 10 mod (4 + 2)
    assert.equal(ev('2_pow_1_add_2'), 8); // 2 ^ (1 + 2)
    assert.equal(ev('10_sub_4_sub_3'), 3);
    assert.ok(Number.isNaN(ev('iw_div_0', { iw: 5 })));
    assert.ok(Number.isNaN(ev('cw', {})));
  });
});

describe('the SDK URL builder', () => {
  test('everything it emits for supported options parses', () => {
    const cases = [
      [{ width: 300, height: 200, crop: 'at_max' }, { rotation: 90 }],
      [{ width: 0.5, aspectRatio: '4-3', focus: 'top_left', cropMode: 'extract', x: 10, y: 20 }],
      [{ xCenter: 100, yCenter: 100, width: 50, height: 50, cropMode: 'pad_extract', background: 'F3F3F3' }],
      [{ quality: 80, format: 'webp', progressive: true, lossless: false, metadata: true, colorProfile: true }],
      [{ grayscale: true, contrastStretch: true, sharpen: 10, unsharpMask: '2-2-0.8-0.024', blur: 10 }],
      [{ shadow: true, gradient: 'ld-top_from-red_to-blue' }, { shadow: 'bl-15_st-40_x-10_y-N5' }],
      [{ radius: 'max', border: '5_FF0000', trim: true, opacity: 50, flip: 'h_v', dpr: 2, zoom: 1.5 }],
      [{ defaultImage: '/folder/default.jpg', named: 'ik_ml_thumbnail' }],
      [{ original: true }],
      [{ page: 2, videoCodec: 'h264', audioCodec: 'aac', startOffset: 5, endOffset: 10, duration: 5, streamingResolutions: ['240', '720'] }],
      [{ overlay: { type: 'image', input: '/folder/logo.png', position: { x: 10, y: 'bh_mul_0.1', focus: 'center' }, transformation: [{ width: 50, rotation: 90 }, { border: '2_red' }] } }],
      [{ overlay: { type: 'text', text: 'Héllo, world: ✓', position: { xCenter: 'bw_div_2', anchorPoint: 'center' }, transformation: [{ fontSize: 30, fontFamily: 'Open Sans', fontColor: 'FF0000', innerAlignment: 'left', padding: '10_20', alpha: 5, typography: 'b_i', background: 'FFFFFF50', radius: 10, rotation: 'N10', flip: 'h', lineHeight: 20 }] } }],
      [{ overlay: { type: 'solidColor', color: 'FF0000', position: { focus: 'bottom_right' }, transformation: [{ width: 100, height: 'bh_div_10', radius: 'max', alpha: 5, gradient: true }] } }],
      [{ overlay: { type: 'image', input: 'a b/c.png', encoding: 'base64', layerMode: 'multiply', timing: { start: 1, end: 2 } } }],
      [{ overlay: { type: 'video', input: 'clip.mp4' } }],
    ];
    for (const tr of cases) {
      const s = buildTransformationString(tr as never);
      assert.doesNotThrow(() => parseTransformation(s), s);
      assert.equal(canon(canon(s)), canon(s), s);
    }
  });

  test('AI options it can emit are refused clearly', () => {
    const s = buildTransformationString([{ aiRemoveBackground: true }] as never);
    assert.throws(() => parseTransformation(s), is400(/AI/));
  });
});

// No official Node helper to compare with (getResponsiveImageAttributes lives in @imagekit/javascript),
// so these pin the behaviour the spec's GetImageAttributesOptions describes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSrc, getResponsiveImageAttributes } from '../../src/lib/index.js';

const E = 'https://ik.imagekit.io/demo';
const url = (w: number, prefix = ''): string => `${E}/a.jpg?tr=${prefix}c-at_max,w-${w}`;

describe('getResponsiveImageAttributes', () => {
  test('width → 1x and 2x candidates from the merged breakpoints', () => {
    assert.deepEqual(getResponsiveImageAttributes({ urlEndpoint: E, src: '/a.jpg', width: 400 }), {
      src: url(828),
      srcSet: `${url(640)} 1x, ${url(828)} 2x`,
      width: 400,
    });
  });

  test('width past the largest breakpoint collapses to one candidate', () => {
    const attrs = getResponsiveImageAttributes({ urlEndpoint: E, src: '/a.jpg', width: 5000 });
    assert.equal(attrs.srcSet, `${url(3840)} 1x`);
  });

  test('no width and no sizes → device breakpoints with w descriptors and sizes 100vw', () => {
    const attrs = getResponsiveImageAttributes({ urlEndpoint: E, src: '/a.jpg' });
    const device = [640, 750, 828, 1080, 1200, 1920, 2048, 3840];
    assert.equal(attrs.srcSet, device.map((w) => `${url(w)} ${w}w`).join(', '));
    assert.equal(attrs.sizes, '100vw');
    assert.equal(attrs.src, url(3840));
  });

  test('sizes with vw prunes breakpoints below the smallest share of the smallest device', () => {
    const attrs = getResponsiveImageAttributes({ urlEndpoint: E, src: '/a.jpg', sizes: '(min-width: 768px) 50vw, 100vw' });
    // 50% of 640 = 320 → image breakpoints 384 and up survive.
    const widths = [384, 640, 750, 828, 1080, 1200, 1920, 2048, 3840];
    assert.equal(attrs.srcSet, widths.map((w) => `${url(w)} ${w}w`).join(', '));
    assert.equal(attrs.sizes, '(min-width: 768px) 50vw, 100vw');
  });

  test('sizes without vw keeps every breakpoint', () => {
    const attrs = getResponsiveImageAttributes({ urlEndpoint: E, src: '/a.jpg', sizes: '300px', width: 999 });
    assert.equal(attrs.srcSet?.split(', ').length, 16);
    assert.equal(attrs.width, 999);
  });

  test('custom breakpoints are sorted; user transformations come first', () => {
    const attrs = getResponsiveImageAttributes({
      urlEndpoint: E,
      src: '/a.jpg',
      transformation: [{ format: 'auto' }],
      deviceBreakpoints: [1000, 500],
      imageBreakpoints: [100],
    });
    assert.equal(attrs.srcSet, `${url(500, 'f-auto:')} 500w, ${url(1000, 'f-auto:')} 1000w`);
  });

  test('signing options apply to every candidate', () => {
    const attrs = getResponsiveImageAttributes({ urlEndpoint: E, src: '/a.jpg', width: 100, signed: true, privateKey: 'k' });
    const expected = buildSrc({ urlEndpoint: E, src: '/a.jpg', transformation: [{ crop: 'at_max', width: 128 }], signed: true, privateKey: 'k' });
    assert.match(attrs.srcSet ?? '', /ik-s=[0-9a-f]{40} 1x, /);
    assert.ok(attrs.srcSet?.startsWith(`${expected} 1x`));
  });
});

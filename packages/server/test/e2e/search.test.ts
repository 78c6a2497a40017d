/**
 * List and search (GET /v1/files) against the real server over HTTP.
 *
 * A fixed library: sixteen files (two with older versions) in eight folders, written through the
 * metadata store before the server starts (so their dates, tags, AI tags and embedded metadata are
 * exactly what the table below expects), plus three real files uploaded through the API. Custom
 * metadata fields of every type are defined through the store too (one of them deleted).
 *
 * Then a table of queries — searchQuery and plain parameters, valid and invalid — each with the
 * EXACT set of results (or order, where the row says so) or the 400 it must give. Every 200 body
 * is validated against the spec's schema for the response.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customFieldStoreFor } from '../../src/adapters/db/custom-field-repo.js';
import type { AssetState, FileRecord } from '../../src/ports/metadata-store.js';
import { api, assertApiError, makeJpeg, makePng, openStoreFor, upload, type Json } from '../support/e2e-helpers.js';
import { prepareTestBackend, startTestServer, type TestServer } from '../support/server.js';
import { assertMatchesSchema, responseSchemaFor, specAvailable } from '../support/spec.js';

let srv: TestServer;

const HOUR = 3_600_000;
const T = Date.now();
const ago = (hours: number) => new Date(T - hours * HOUR).toISOString();
const RECENT = ago(2);
const D3 = ago(72);
const D10 = ago(240);
const D40 = ago(960);
const Y2020 = '2020-01-01T00:00:00.000Z';
const Y2020_NOON = '2020-01-01T12:12:12.000Z';

const fileId = (n: number) => `a${'0'.repeat(21)}${n.toString(16).padStart(2, '0')}`;
const folderId = (n: number) => `f${'0'.repeat(21)}${n.toString(16).padStart(2, '0')}`;

// --- the library ---------------------------------------------------------------------------

const FOLDERS: Array<[path: string, created: string]> = [
  ['/products/', D40],
  ['/products/shoes/', D40],
  ['/products/shoes/running/', D40],
  ['/products/bags/', D40],
  ['/marketing/', D10],
  ['/marketing/banners/', D10],
  ['/archive/', Y2020],
  ['/archive/2020/', Y2020],
];

interface Spec {
  name: string;
  folder: string;
  format: string;
  mime: string;
  fileType?: 'image' | 'non-image';
  size: number;
  w?: number;
  h?: number;
  alpha?: boolean;
  tags?: string[];
  ai?: string[];
  custom?: Record<string, unknown>;
  emb?: Record<string, unknown>;
  desc?: string;
  priv?: boolean;
  pub?: boolean;
  created: string;
  updated: string;
}

const FILES: Spec[] = [
  { name: 'red-dress-summer.jpg', folder: '/products/', format: 'jpg', mime: 'image/jpeg', size: 204800, w: 800, h: 600, tags: ['summer-sale', 'dress'],
    custom: { brand: 'Nike', price: 49.99, launch: '2024-03-01T00:00:00.000Z', active: true, rating: 'excellent', colors: ['red', 'blue'], notes: 'Light cotton dress for hot days' },
    desc: 'A red dress for summer', created: D3, updated: RECENT },
  { name: 'red-dress-winter.jpg', folder: '/products/', format: 'jpg', mime: 'image/jpeg', size: 1572864, w: 1200, h: 900, tags: ['winter', 'dress'], ai: ['Dress', 'Clothing'],
    custom: { brand: 'Adidas', price: 120, launch: '2023-11-20T00:00:00.000Z', active: false, rating: 4, colors: ['red'] }, created: D40, updated: D10 },
  { name: 'blue-shirt.png', folder: '/products/', format: 'png', mime: 'image/png', size: 51200, w: 400, h: 400, alpha: true, tags: ['Summer-Sale'],
    custom: { brand: 'nike', price: 19.5, rating: 5, colors: ['blue', 'green'] }, created: D10, updated: D10 },
  { name: 'running-shoe-pro.webp', folder: '/products/shoes/', format: 'webp', mime: 'image/webp', size: 307200, w: 1000, h: 1000, alpha: true, tags: ['shoes', 'sale'], ai: ['Shoe', 'Sneakers'],
    custom: { brand: 'Nike', price: 149.99, active: true, rating: 'good', colors: ['black'] }, desc: 'Pro running shoe', created: '2023-06-15T08:30:00.000Z', updated: D3 },
  { name: 'trail-runner.jpg', folder: '/products/shoes/running/', format: 'jpg', mime: 'image/jpeg', size: 2097152, w: 3000, h: 2000, tags: ['shoes'],
    custom: { brand: 'Asics', price: 99 }, emb: { DateTimeOriginal: '2019-05-01T10:00:00.000Z', Keywords: ['trail', 'outdoor'], Make: 'Canon', ISO: 200 },
    created: Y2020, updated: Y2020_NOON },
  { name: 'marathon-shoe.png', folder: '/products/shoes/running/', format: 'png', mime: 'image/png', size: 10240, w: 64, h: 64, priv: true, created: Y2020_NOON, updated: Y2020_NOON },
  { name: 'leather-bag.jpg', folder: '/products/bags/', format: 'jpg', mime: 'image/jpeg', size: 1048576, w: 500, h: 700, tags: ['bags', 'leather'],
    custom: { brand: 'Gucci', price: 1500, launch: '2024-01-01T00:00:00.000Z', rating: true }, emb: { DateTimeOriginal: '2023-06-15T08:30:00.000Z', Keywords: ['luxury', 'bag'], ISO: 800 },
    desc: 'Brown leather bag', priv: true, pub: false, created: D40, updated: D40 },
  { name: 'summer-banner.gif', folder: '/marketing/banners/', format: 'gif', mime: 'image/gif', size: 524288, w: 1920, h: 400, alpha: true, tags: ['summer-sale', 'banner'], created: RECENT, updated: RECENT },
  { name: 'winter-banner.gif', folder: '/marketing/banners/', format: 'gif', mime: 'image/gif', size: 600000, w: 1920, h: 400, tags: ['banner'], pub: false, created: D3, updated: D3 },
  { name: 'brochure.pdf', folder: '/marketing/', format: 'pdf', mime: 'application/pdf', fileType: 'non-image', size: 3145728, tags: ['print'],
    custom: { notes: 'Quarterly brochure, print ready' }, desc: 'Spring catalogue', created: D10, updated: D3 },
  { name: 'promo-video.mp4', folder: '/marketing/', format: 'mp4', mime: 'video/mp4', fileType: 'non-image', size: 10485760, tags: ['video', 'summer-sale'], custom: { brand: 'Nike' }, created: D3, updated: RECENT },
  { name: 'logo.svg', folder: '/', format: 'svg', mime: 'image/svg+xml', size: 2048, tags: ['logo'], created: '2019-12-31T23:59:59.999Z', updated: '2019-12-31T23:59:59.999Z' },
  { name: 'README.txt', folder: '/', format: 'txt', mime: 'text/plain', fileType: 'non-image', size: 100, created: D40, updated: D40 },
  { name: 'old-catalog.pdf', folder: '/archive/2020/', format: 'pdf', mime: 'application/pdf', fileType: 'non-image', size: 999999, tags: ['print', 'archive'], desc: 'Old catalogue', created: Y2020_NOON, updated: Y2020_NOON },
  { name: 'Café-Crème.jpg', folder: '/archive/', format: 'jpg', mime: 'image/jpeg', size: 4096, w: 100, h: 100, tags: ['Café'], custom: { notes: 'Crème brûlée photo' }, created: D40, updated: D40 },
  { name: 'red-carpet.jpg', folder: '/archive/', format: 'jpg', mime: 'image/jpeg', size: 7000, w: 300, h: 200, tags: ['red'], ai: ['Carpet'], created: D40, updated: D40 },
];

/** Older versions: [index of the file in FILES, changes from the file's state]. */
const OLD_VERSIONS: Array<[number, Partial<AssetState>]> = [
  [0, { tags: ['draft'], size: 102400, customMetadata: { brand: 'Reebok' }, description: null, versionNumber: 1, createdAt: D3, updatedAt: D3 }],
  [3, { tags: ['shoes', 'old'], aiTags: null, size: 250000, customMetadata: { brand: 'Nike', rating: 'good' }, versionNumber: 1, createdAt: '2023-06-15T08:30:00.000Z', updatedAt: '2023-06-15T08:30:00.000Z' }],
];

function stateOf(s: Spec): AssetState {
  const fileType = s.fileType ?? 'image';
  return {
    name: s.name,
    filePath: s.folder + s.name,
    folderPath: s.folder,
    fileType,
    mime: s.mime,
    format: s.format,
    size: s.size,
    width: s.w ?? null,
    height: s.h ?? null,
    hasAlpha: s.alpha ?? false,
    bitRate: null,
    duration: null,
    audioCodec: null,
    videoCodec: null,
    tags: s.tags ?? null,
    aiTags: s.ai ? s.ai.map((name) => ({ name, confidence: 95, source: 'google-auto-tagging' })) : null,
    customCoordinates: null,
    customMetadata: s.custom ?? {},
    embeddedMetadata: s.emb ?? null,
    description: s.desc ?? null,
    isPrivate: s.priv ?? false,
    isPublished: s.pub ?? true,
    blobKey: `blob-${s.name}`,
    checksum: '0'.repeat(64),
    versionNumber: 1,
    createdAt: s.created,
    updatedAt: s.updated,
  };
}

const ids: Record<string, string> = {};

async function seedStore(dataDir: string): Promise<void> {
  const store = await openStoreFor(dataDir);
  const fields = customFieldStoreFor(store);
  const defs: Array<[string, Record<string, unknown>, boolean?]> = [
    ['brand', { type: 'Text' }],
    ['price', { type: 'Number' }],
    ['launch', { type: 'Date' }],
    ['active', { type: 'Boolean' }],
    ['rating', { type: 'SingleSelect', selectOptions: ['excellent', 'good', 4, 5, true] }],
    ['colors', { type: 'MultiSelect', selectOptions: ['red', 'blue', 'green', 'black'] }],
    ['notes', { type: 'Textarea' }],
    ['legacy', { type: 'Text' }, true],
  ];
  for (const [i, [name, schema, deleted]] of defs.entries()) {
    await fields.insert({ id: hexIdOf('c', i), name, label: name, schema: schema as never, isDeleted: deleted === true, createdAt: D40, updatedAt: D40 });
  }
  await store.transaction(async (tx) => {
    for (const [i, [path, created]] of FOLDERS.entries()) {
      const segs = path.split('/').filter(Boolean);
      const parent = segs.length === 1 ? '/' : `/${segs.slice(0, -1).join('/')}/`;
      await tx.insertFolder({ id: folderId(i), path, name: segs[segs.length - 1]!, parentPath: parent, createdAt: created, updatedAt: created });
      ids[`folder:${path}`] = folderId(i);
    }
    for (const [i, s] of FILES.entries()) {
      const id = fileId(i + 1);
      ids[s.name] = id;
      const olds = OLD_VERSIONS.filter(([k]) => k === i);
      const current = { ...stateOf(s), versionNumber: olds.length + 1 };
      const f: FileRecord = { ...current, id, currentVersionId: `b${id.slice(1)}` };
      await tx.insertFile(f);
      for (const [, changes] of olds) {
        await tx.insertVersion({ ...current, ...changes, id: `e${id.slice(1)}`, fileId: id });
      }
      await tx.insertVersion({ ...current, id: f.currentVersionId, fileId: id });
    }
  });
  await store.close();
}

function hexIdOf(prefix: string, n: number): string {
  return `${prefix}${'0'.repeat(21)}${n.toString(16).padStart(2, '0')}`;
}

// --- expected sets ------------------------------------------------------------------------

const UPLOADS = ['api-photo.png', 'api-photo.jpg', 'notes.txt'];
const ALL_FOLDERS = [...FOLDERS.map(([p]) => `folder:${p}`), 'folder:/uploads/', 'folder:/uploads/docs/'];
const ALL_FILES = [...FILES.map((f) => f.name), ...UPLOADS];
const ALL = [...ALL_FOLDERS, ...ALL_FILES];
const except = (...keys: string[]) => ALL.filter((k) => !keys.includes(k));
const filesExcept = (...keys: string[]) => ALL_FILES.filter((k) => !keys.includes(k));
const V1 = 'v:red-dress-summer.jpg@Version 1';
const V4 = 'v:running-shoe-pro.webp@Version 1';

/** What identifies a result: a file's name, `folder:/path/`, or `v:name@Version n` for a version. */
function keyOf(item: Json): string {
  if (item.type === 'folder') return `folder:${item.folderPath}/`;
  if (item.type === 'file-version') return `v:${item.name}@${item.versionInfo.name}`;
  return item.name;
}

// --- the table ----------------------------------------------------------------------------

interface Row {
  /** searchQuery alone (string) or the full query parameters. */
  q: string | Record<string, string | string[]>;
  /** The exact results (a set unless `ordered`), or a 400 whose message matches. */
  expect: string[] | RegExp;
  ordered?: boolean;
}

const sq = (q: string, expect: string[] | RegExp, ordered = false): Row => ({ q, expect, ordered });
const params = (q: Record<string, string | string[]>, expect: string[] | RegExp, ordered = false): Row => ({ q, expect, ordered });
const E400 = /at position \d+/;

function table(): Row[] {
  return [
    // name
    sq('name = "red-dress-summer.jpg"', ['red-dress-summer.jpg']),
    sq('name = "red-dress-summer.JPG"', []),
    sq('name : "red"', ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'red-carpet.jpg']),
    sq('name : "Red"', []),
    sq('name:"red-dress"', ['red-dress-summer.jpg', 'red-dress-winter.jpg']),
    sq('name IN ["logo.svg", "README.txt", "nope.jpg"]', ['logo.svg', 'README.txt']),
    sq('name NOT = "logo.svg"', except('logo.svg')),
    sq('name NOT : "r"', except('red-dress-summer.jpg', 'red-dress-winter.jpg', 'running-shoe-pro.webp', 'red-carpet.jpg', 'folder:/products/shoes/running/')),
    sq('name = "shoes"', ['folder:/products/shoes/']),
    sq('name : "2020"', ['folder:/archive/2020/']),
    sq('name = red_dress.jpg', []),
    sq('name = logo.svg', ['logo.svg']),
    sq('name HAS "dress"', ['red-dress-summer.jpg', 'red-dress-winter.jpg']),
    sq('name HAS "DRESS summer"', ['red-dress-summer.jpg']),
    sq('name HAS "cafe"', ['Café-Crème.jpg']),
    sq('name HAS "crème"', ['Café-Crème.jpg']),
    sq('name HAS "banners"', ['folder:/marketing/banners/']),
    sq('name HAS "banner"', ['summer-banner.gif', 'winter-banner.gif']),
    sq('name HAS "api"', ['api-photo.png', 'api-photo.jpg']),
    sq('name HAS "photo png"', ['api-photo.png']),
    sq('name NOT HAS "dress"', except('red-dress-summer.jpg', 'red-dress-winter.jpg')),
    sq('name HAS "jpg"', ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'trail-runner.jpg', 'leather-bag.jpg', 'Café-Crème.jpg', 'red-carpet.jpg', 'api-photo.jpg']),
    // tags (tags and AITags, case-insensitive)
    sq('tags IN ["summer-sale"]', ['red-dress-summer.jpg', 'blue-shirt.png', 'summer-banner.gif', 'promo-video.mp4', 'api-photo.png']),
    sq('tags IN ["SUMMER-SALE", "winter"]', ['red-dress-summer.jpg', 'blue-shirt.png', 'summer-banner.gif', 'promo-video.mp4', 'api-photo.png', 'red-dress-winter.jpg']),
    sq('tags IN ["dress"]', ['red-dress-summer.jpg', 'red-dress-winter.jpg']),
    sq('tags IN ["clothing"]', ['red-dress-winter.jpg']),
    sq('"tags" IN ["sneakers", "carpet"]', ['running-shoe-pro.webp', 'red-carpet.jpg']),
    sq('tags NOT IN ["summer-sale"]', except('red-dress-summer.jpg', 'blue-shirt.png', 'summer-banner.gif', 'promo-video.mp4', 'api-photo.png')),
    sq('tags EXISTS', filesExcept('marathon-shoe.png', 'README.txt', 'notes.txt')),
    sq('tags NOT EXISTS', [...ALL_FOLDERS, 'marathon-shoe.png', 'README.txt', 'notes.txt']),
    sq('tags HAS "sale"', ['red-dress-summer.jpg', 'blue-shirt.png', 'running-shoe-pro.webp', 'summer-banner.gif', 'promo-video.mp4', 'api-photo.png']),
    sq('tags HAS "cafe"', ['Café-Crème.jpg']),
    sq('tags IN ["café"]', ['Café-Crème.jpg']),
    sq('tags IN ["cafe"]', []),
    // type
    sq('type = "folder"', ALL_FOLDERS),
    sq('type = "file"', ALL_FILES),
    sq('type IN ["file", "folder"]', ALL),
    sq('type = "file-version"', [V1, V4]),
    sq('type NOT = "folder"', ALL_FILES),
    sq('type = "file-version" AND size < 200kb', [V1]),
    sq('type = "file-version" OR name = "logo.svg"', [V1, V4, 'logo.svg']),
    sq('type = "file-version" AND tags IN ["old"]', [V4]),
    sq('type = "file-version" AND "customMetadata.brand" = "Reebok"', [V1]),
    sq('type = "file-version" AND tags EXISTS', [V1, V4]),
    sq('type = "file-version" AND name HAS "summer"', [V1]),
    sq('type IN ["file", "file-version"] AND name : "running-shoe"', ['running-shoe-pro.webp', V4]),
    sq('type = "file-version" AND "customMetadata.rating" = "good"', [V4]),
    // dates
    sq('createdAt > "7d"', ['red-dress-summer.jpg', 'summer-banner.gif', 'winter-banner.gif', 'promo-video.mp4', ...UPLOADS, 'folder:/uploads/', 'folder:/uploads/docs/']),
    sq('createdAt < "7d"', except('red-dress-summer.jpg', 'summer-banner.gif', 'winter-banner.gif', 'promo-video.mp4', ...UPLOADS, 'folder:/uploads/', 'folder:/uploads/docs/')),
    sq('createdAt >= "2020-01-01" AND createdAt < "2020-01-02"', ['trail-runner.jpg', 'marathon-shoe.png', 'old-catalog.pdf', 'folder:/archive/', 'folder:/archive/2020/']),
    sq('createdAt = "2020-01-01"', ['trail-runner.jpg', 'marathon-shoe.png', 'old-catalog.pdf', 'folder:/archive/', 'folder:/archive/2020/']),
    sq('createdAt = "2020-01-01T12:12:12"', ['marathon-shoe.png', 'old-catalog.pdf']),
    sq('createdAt = "2020-01-01 12:12:12"', ['marathon-shoe.png', 'old-catalog.pdf']),
    sq('createdAt > 2020-01-01', except('trail-runner.jpg', 'folder:/archive/', 'folder:/archive/2020/', 'logo.svg')),
    sq('createdAt <= "2020-01-01T00:00:00"', ['trail-runner.jpg', 'logo.svg', 'folder:/archive/', 'folder:/archive/2020/']),
    sq('createdAt < 2020-01-01', ['logo.svg']),
    sq('createdAt IN ["2019-12-31", "2023-06-15"]', ['logo.svg', 'running-shoe-pro.webp']),
    sq('createdAt NOT = "2020-01-01"', except('trail-runner.jpg', 'marathon-shoe.png', 'old-catalog.pdf', 'folder:/archive/', 'folder:/archive/2020/')),
    sq('updatedAt > "1d"', ['red-dress-summer.jpg', 'summer-banner.gif', 'promo-video.mp4', ...UPLOADS, 'folder:/uploads/', 'folder:/uploads/docs/']),
    sq('updatedAt > "2w"', [
      'red-dress-summer.jpg', 'red-dress-winter.jpg', 'blue-shirt.png', 'running-shoe-pro.webp', 'summer-banner.gif', 'winter-banner.gif', 'brochure.pdf',
      'promo-video.mp4', ...UPLOADS, 'folder:/marketing/', 'folder:/marketing/banners/', 'folder:/uploads/', 'folder:/uploads/docs/',
    ]),
    sq('createdAt > "1y"', except('running-shoe-pro.webp', 'trail-runner.jpg', 'marathon-shoe.png', 'logo.svg', 'old-catalog.pdf', 'folder:/archive/', 'folder:/archive/2020/')),
    sq('createdAt > "3m"', except('running-shoe-pro.webp', 'trail-runner.jpg', 'marathon-shoe.png', 'logo.svg', 'old-catalog.pdf', 'folder:/archive/', 'folder:/archive/2020/')),
    sq('createdAt > "1h"', [...UPLOADS, 'folder:/uploads/', 'folder:/uploads/docs/']),
    sq('createdAt > "48h"', ['summer-banner.gif', ...UPLOADS, 'folder:/uploads/', 'folder:/uploads/docs/']),
    sq('createdAt > "yesterday"', /expects a date/),
    // numbers
    sq('width > 1000', ['red-dress-winter.jpg', 'trail-runner.jpg', 'summer-banner.gif', 'winter-banner.gif']),
    sq('width >= 1000 AND height >= 1000', ['running-shoe-pro.webp', 'trail-runner.jpg']),
    sq('height < 100', ['marathon-shoe.png', 'api-photo.png', 'api-photo.jpg']),
    sq('width = 1920', ['summer-banner.gif', 'winter-banner.gif']),
    sq('width IN [64, 100]', ['marathon-shoe.png', 'api-photo.png', 'Café-Crème.jpg']),
    sq('width NOT IN [1920]', except('summer-banner.gif', 'winter-banner.gif')),
    sq('size > "1mb"', ['red-dress-winter.jpg', 'trail-runner.jpg', 'brochure.pdf', 'promo-video.mp4']),
    sq('size >= "1mb"', ['red-dress-winter.jpg', 'trail-runner.jpg', 'leather-bag.jpg', 'brochure.pdf', 'promo-video.mp4']),
    sq('size = 1048576', ['leather-bag.jpg']),
    sq('size < 10kb', ['logo.svg', 'README.txt', 'Café-Crème.jpg', 'red-carpet.jpg', ...UPLOADS]),
    sq('size <= "10kb"', ['marathon-shoe.png', 'logo.svg', 'README.txt', 'Café-Crème.jpg', 'red-carpet.jpg', ...UPLOADS]),
    sq('size > "1.5mb"', ['trail-runner.jpg', 'brochure.pdf', 'promo-video.mp4']),
    sq('size IN [100, 2048]', ['README.txt', 'logo.svg']),
    sq('size > "huge"', /a size in bytes/),
    // format
    sq('format = "jpg"', ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'trail-runner.jpg', 'leather-bag.jpg', 'Café-Crème.jpg', 'red-carpet.jpg', 'api-photo.jpg']),
    sq('format IN ["png", "gif"]', ['blue-shirt.png', 'marathon-shoe.png', 'summer-banner.gif', 'winter-banner.gif', 'api-photo.png']),
    sq('format = "JPG"', ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'trail-runner.jpg', 'leather-bag.jpg', 'Café-Crème.jpg', 'red-carpet.jpg', 'api-photo.jpg']),
    sq('format NOT IN ["jpg", "png", "gif"]', [...ALL_FOLDERS, 'running-shoe-pro.webp', 'brochure.pdf', 'promo-video.mp4', 'logo.svg', 'README.txt', 'old-catalog.pdf', 'notes.txt']),
    // booleans
    sq('private = true', ['marathon-shoe.png', 'leather-bag.jpg']),
    sq('private = false', filesExcept('marathon-shoe.png', 'leather-bag.jpg')),
    sq('published = false', ['leather-bag.jpg', 'winter-banner.gif']),
    sq('transparency = true', ['blue-shirt.png', 'running-shoe-pro.webp', 'summer-banner.gif', 'api-photo.png']),
    sq('transparency = false', [
      'red-dress-summer.jpg', 'red-dress-winter.jpg', 'trail-runner.jpg', 'marathon-shoe.png', 'leather-bag.jpg', 'winter-banner.gif', 'logo.svg', 'Café-Crème.jpg',
      'red-carpet.jpg', 'api-photo.jpg',
    ]),
    sq('transparency NOT = true', except('blue-shirt.png', 'running-shoe-pro.webp', 'summer-banner.gif', 'api-photo.png')),
    sq('private = "true"', /true or false/),
    // path
    sq('path = "/products"', ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'blue-shirt.png', 'folder:/products/shoes/', 'folder:/products/bags/']),
    sq('path : "/products"', [
      'red-dress-summer.jpg', 'red-dress-winter.jpg', 'blue-shirt.png', 'running-shoe-pro.webp', 'trail-runner.jpg', 'marathon-shoe.png', 'leather-bag.jpg',
      'folder:/products/shoes/', 'folder:/products/shoes/running/', 'folder:/products/bags/',
    ]),
    sq('path = "/"', ['logo.svg', 'README.txt', 'folder:/products/', 'folder:/marketing/', 'folder:/archive/', 'folder:/uploads/']),
    sq('path : "/"', ALL),
    sq('path : "products/shoes/"', ['running-shoe-pro.webp', 'trail-runner.jpg', 'marathon-shoe.png', 'folder:/products/shoes/running/']),
    sq('path = "/nope"', []),
    sq('path : "/product"', []),
    sq('path NOT : "/products" AND type = "file"', filesExcept('red-dress-summer.jpg', 'red-dress-winter.jpg', 'blue-shirt.png', 'running-shoe-pro.webp', 'trail-runner.jpg', 'marathon-shoe.png', 'leather-bag.jpg')),
    // custom metadata, by field type
    sq('"customMetadata.brand" = "Nike"', ['red-dress-summer.jpg', 'running-shoe-pro.webp', 'promo-video.mp4', 'api-photo.jpg']),
    sq('"customMetadata.brand" : "N"', ['red-dress-summer.jpg', 'running-shoe-pro.webp', 'promo-video.mp4', 'api-photo.jpg']),
    sq('"customMetadata.brand" IN ["nike", "Gucci"]', ['blue-shirt.png', 'leather-bag.jpg']),
    sq('"customMetadata.brand" NOT = "Nike"', except('red-dress-summer.jpg', 'running-shoe-pro.webp', 'promo-video.mp4', 'api-photo.jpg')),
    sq('"customMetadata.brand" EXISTS', ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'blue-shirt.png', 'running-shoe-pro.webp', 'trail-runner.jpg', 'leather-bag.jpg', 'promo-video.mp4', 'api-photo.png', 'api-photo.jpg']),
    sq('"customMetadata.brand" NOT EXISTS AND type = "file"', ['marathon-shoe.png', 'summer-banner.gif', 'winter-banner.gif', 'brochure.pdf', 'logo.svg', 'README.txt', 'old-catalog.pdf', 'Café-Crème.jpg', 'red-carpet.jpg', 'notes.txt']),
    sq('"customMetadata.brand" HAS "nike"', ['red-dress-summer.jpg', 'blue-shirt.png', 'running-shoe-pro.webp', 'promo-video.mp4', 'api-photo.jpg']),
    sq('"customMetadata.price" > 100', ['red-dress-winter.jpg', 'running-shoe-pro.webp', 'leather-bag.jpg']),
    sq('"customMetadata.price" <= 49.99', ['red-dress-summer.jpg', 'blue-shirt.png', 'api-photo.png']),
    sq('"customMetadata.price" IN [99, 120]', ['trail-runner.jpg', 'red-dress-winter.jpg']),
    sq('"customMetadata.price" = "120"', ['red-dress-winter.jpg']),
    sq('"customMetadata.launch" > "2024-01-01"', ['red-dress-summer.jpg']),
    sq('"customMetadata.launch" >= "2024-01-01"', ['red-dress-summer.jpg', 'leather-bag.jpg']),
    sq('"customMetadata.launch" = "2023-11-20"', ['red-dress-winter.jpg']),
    sq('"customMetadata.launch" < "1y"', ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'leather-bag.jpg']),
    sq('"customMetadata.active" = true', ['red-dress-summer.jpg', 'running-shoe-pro.webp']),
    sq('"customMetadata.active" = false', ['red-dress-winter.jpg']),
    sq('"customMetadata.active" NOT = true AND type = "file"', filesExcept('red-dress-summer.jpg', 'running-shoe-pro.webp')),
    sq('"customMetadata.rating" = "excellent"', ['red-dress-summer.jpg']),
    sq('"customMetadata.rating" = 4', ['red-dress-winter.jpg']),
    sq('"customMetadata.rating" > 4', ['blue-shirt.png']),
    sq('"customMetadata.rating" >= 4', ['red-dress-winter.jpg', 'blue-shirt.png']),
    sq('"customMetadata.rating" = true', ['leather-bag.jpg']),
    sq('"customMetadata.rating" : "goo"', ['running-shoe-pro.webp']),
    sq('"customMetadata.rating" IN ["good", 5]', ['running-shoe-pro.webp', 'blue-shirt.png']),
    sq('"customMetadata.colors" IN ["red"]', ['red-dress-summer.jpg', 'red-dress-winter.jpg']),
    sq('"customMetadata.colors" IN ["green", "black"]', ['blue-shirt.png', 'running-shoe-pro.webp']),
    sq('"customMetadata.colors" NOT IN ["red"] AND "customMetadata.colors" EXISTS', ['blue-shirt.png', 'running-shoe-pro.webp']),
    sq('"customMetadata.notes" HAS "print"', ['brochure.pdf']),
    sq('"customMetadata.notes" HAS "brulee"', ['Café-Crème.jpg']),
    sq('"customMetadata.notes" HAS "dress"', ['red-dress-summer.jpg']),
    sq('"customMetadata.notes" : "Light"', ['red-dress-summer.jpg']),
    sq('"customMetadata.legacy" = "x"', /unknown field "customMetadata.legacy"/),
    sq('"customMetadata.unknown" EXISTS', /unknown field "customMetadata.unknown"/),
    sq('"customMetadata.colors" = "red"', /operator "=" is not supported for field "customMetadata.colors"/),
    sq('"customMetadata.price" : 5', /operator ":" is not supported for field "customMetadata.price"/),
    sq('"customMetadata.rating" > "high"', /expects a numeric value/),
    // embedded metadata
    sq('"embeddedMetadata.Make" = "Canon"', ['trail-runner.jpg']),
    sq('"embeddedMetadata.Keywords" IN ["luxury", "trail"]', ['leather-bag.jpg', 'trail-runner.jpg']),
    sq('"embeddedMetadata.Keywords" NOT IN ["luxury"] AND type = "file"', filesExcept('leather-bag.jpg')),
    sq('"embeddedMetadata.DateTimeOriginal" > "2020-01-01"', ['leather-bag.jpg']),
    sq('"embeddedMetadata.DateTimeOriginal" < "1y"', ['trail-runner.jpg', 'leather-bag.jpg']),
    sq('"embeddedMetadata.ISO" >= 400', ['leather-bag.jpg']),
    sq('"embeddedMetadata.ISO" EXISTS', ['trail-runner.jpg', 'leather-bag.jpg']),
    sq('"embeddedMetadata.LocationTaken" = "40,100 5km"', /not supported/),
    // description, createdBy
    sq('description HAS "leather"', ['leather-bag.jpg']),
    sq('description HAS "CATALOGUE"', ['brochure.pdf', 'old-catalog.pdf']),
    sq('description EXISTS', ['red-dress-summer.jpg', 'running-shoe-pro.webp', 'leather-bag.jpg', 'brochure.pdf', 'old-catalog.pdf', 'api-photo.jpg']),
    sq('createdBy = "someone@example.com"', []),
    sq('createdBy NOT EXISTS', ALL),
    // AND / OR / parentheses
    sq('name = "logo.svg" OR name = "README.txt" AND size < 1000', ['logo.svg', 'README.txt']),
    sq('(name = "logo.svg" OR name = "README.txt") AND size < 1000', ['README.txt']),
    sq('format = "jpg" AND (tags IN ["dress"] OR private = true)', ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'leather-bag.jpg']),
    sq('(size < "1mb" AND width > 500) OR (tags IN ["summer-sale","banner"])', [
      'red-dress-summer.jpg', 'running-shoe-pro.webp', 'summer-banner.gif', 'winter-banner.gif', 'blue-shirt.png', 'promo-video.mp4', 'api-photo.png',
    ]),
    sq('createdAt > "7d" AND name: "red"', ['red-dress-summer.jpg']),
    sq('type = "folder" AND name : "s"', ['folder:/products/shoes/']),
    sq('type = "folder" AND createdAt < "2021-01-01"', ['folder:/archive/', 'folder:/archive/2020/']),
    sq('((((name = "logo.svg"))))', ['logo.svg']),
    sq('name = "logo.svg" and size > 1', ['logo.svg']),
    sq('name = "logo.svg" OR name = "README.txt" OR type = "folder" AND name = "bags"', ['logo.svg', 'README.txt', 'folder:/products/bags/']),
    // syntax errors and unsupported fields/operators: 400 with a position
    sq('name = ', E400),
    sq('name = "a" AND', E400),
    sq('(name = "a"', /never closed/),
    sq('name == "a"', E400),
    sq("tags IN ['a']", /double quotes/),
    sq('size != 5', /expected an operator/),
    sq('foo = 1', /unknown field "foo"/),
    sq('tags = "x"', /operator "=" is not supported for field "tags"/),
    sq('type = "image"', /one of "file", "file-version" or "folder"/),
    sq('createdAt > 5', /expects a date/),
    sq('name = "a")', /without a matching/),
    // parameters without searchQuery
    params({}, ALL_FILES),
    params({ type: 'folder' }, ALL_FOLDERS),
    params({ type: 'all' }, ALL),
    params({ type: 'file-version' }, [V1, V4]),
    params({ type: 'all', path: '/products' }, ['folder:/products/shoes/', 'folder:/products/bags/', 'red-dress-winter.jpg', 'blue-shirt.png', 'red-dress-summer.jpg'], true),
    params({ path: 'products/' }, ['red-dress-winter.jpg', 'blue-shirt.png', 'red-dress-summer.jpg'], true),
    params({ fileType: 'non-image' }, ['brochure.pdf', 'promo-video.mp4', 'README.txt', 'old-catalog.pdf', 'notes.txt']),
    params({ fileType: 'image', type: 'all', path: '/marketing' }, ['folder:/marketing/banners/']),
    params({ tags: 'summer-sale,winter' }, ['red-dress-summer.jpg', 'blue-shirt.png', 'summer-banner.gif', 'promo-video.mp4', 'api-photo.png', 'red-dress-winter.jpg']),
    params({ name: 'logo.svg' }, ['logo.svg']),
    params({ searchQuery: 'name = "logo.svg"', tags: 'dress', name: 'README.txt' }, ['logo.svg']),
    params({ type: 'folder', searchQuery: 'name : "red"' }, ['red-dress-summer.jpg', 'red-dress-winter.jpg', 'red-carpet.jpg']),
    params({ includeFolder: 'true', path: '/archive' }, ['folder:/archive/2020/', 'Café-Crème.jpg', 'red-carpet.jpg']),
    params({ path: '/products', searchQuery: 'size < "1mb"' }, ['red-dress-summer.jpg', 'blue-shirt.png']),
    params({ searchQuery: '   ' }, ALL_FILES),
    // sorting and paging
    params({ sort: 'ASC_NAME', path: '/products' }, ['blue-shirt.png', 'red-dress-summer.jpg', 'red-dress-winter.jpg'], true),
    params({ sort: 'DESC_NAME', path: '/archive', type: 'all' }, ['folder:/archive/2020/', 'red-carpet.jpg', 'Café-Crème.jpg'], true),
    params({ sort: 'DESC_SIZE', fileType: 'non-image' }, ['promo-video.mp4', 'brochure.pdf', 'old-catalog.pdf', 'README.txt', 'notes.txt'], true),
    params({ sort: 'ASC_SIZE', path: '/products' }, ['blue-shirt.png', 'red-dress-summer.jpg', 'red-dress-winter.jpg'], true),
    params({ sort: 'ASC_WIDTH', path: '/products' }, ['blue-shirt.png', 'red-dress-summer.jpg', 'red-dress-winter.jpg'], true),
    params({ sort: 'DESC_HEIGHT', path: '/products/shoes/running' }, ['trail-runner.jpg', 'marathon-shoe.png'], true),
    params({ sort: 'ASC_HEIGHT', path: '/' }, ['logo.svg', 'README.txt'], true),
    params({ sort: 'ASC_UPDATED', path: '/marketing/banners' }, ['winter-banner.gif', 'summer-banner.gif'], true),
    params({ sort: 'DESC_UPDATED', path: '/marketing' }, ['promo-video.mp4', 'brochure.pdf'], true),
    params({ sort: 'DESC_CREATED', limit: '2' }, ['notes.txt', 'api-photo.jpg'], true),
    params({ sort: 'ASC_CREATED', limit: '4' }, ['logo.svg', 'trail-runner.jpg', 'marathon-shoe.png', 'old-catalog.pdf'], true),
    params({ skip: '1', limit: '2', sort: 'ASC_NAME', path: '/products' }, ['red-dress-summer.jpg', 'red-dress-winter.jpg'], true),
    params({ type: 'all', sort: 'ASC_NAME', path: '/products', skip: '1', limit: '2' }, ['folder:/products/shoes/', 'blue-shirt.png'], true),
    params({ type: 'all', path: '/products', skip: '3' }, ['blue-shirt.png', 'red-dress-summer.jpg'], true),
    params({ skip: '100' }, []),
    params({ searchQuery: 'name HAS "red" OR tags HAS "red"', sort: 'DESC_RELEVANCE' }, ['red-carpet.jpg', 'red-dress-winter.jpg', 'red-dress-summer.jpg'], true),
    params({ sort: 'ASC_RELEVANCE', limit: '2' }, ['logo.svg', 'trail-runner.jpg'], true),
    // bad parameters
    params({ type: 'image' }, /^Your request contains invalid value for type parameter\. Please provide one of the following: file, file-version, folder, all\.$/),
    params({ sort: 'NAME' }, /^Your request contains invalid value for sort parameters\.$/),
    params({ limit: '0' }, /^Minimum value of limit parameter is 1\. Value sent is 0\.$/),
    params({ limit: '2000' }, /^Maximum value of limit parameter is 1000\. Value sent is 2000\.$/),
    params({ skip: '-1' }, /^The value of skip parameter should be greater than or equal to 0\. Value sent is -1\.$/),
    params({ limit: 'ten' }, /invalid value for limit parameter/),
    params({ skip: '1.5' }, /invalid value for skip parameter/),
    params({ fileType: 'video' }, /invalid value for fileType parameter/),
    params({ path: '/a/../b' }, /invalid value for path parameter/),
    params({ type: ['file', 'folder'] }, /invalid value for type parameter/),
    params({ includeFolder: 'yes' }, /invalid value for includeFolder parameter/),
  ];
}

function queryString(q: Row['q']): string {
  const p = new URLSearchParams();
  if (typeof q === 'string') p.set('searchQuery', q);
  else for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

before(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-search-'));
  await prepareTestBackend(dataDir);
  await seedStore(dataDir);
  srv = await startTestServer({ dataDir });
  const uploads: Array<[string, string, Record<string, string>, { bytes: Uint8Array; type: string }]> = [
    ['api-photo.png', '/uploads', { tags: 'uploaded,summer-sale', customMetadata: JSON.stringify({ brand: 'Puma', price: 10 }) }, { bytes: await makePng(64, 48, true), type: 'image/png' }],
    ['api-photo.jpg', '/uploads', { tags: 'uploaded', customMetadata: JSON.stringify({ brand: 'Nike' }), description: 'Uploaded through the API' }, { bytes: await makeJpeg(120, 80), type: 'image/jpeg' }],
    ['notes.txt', '/uploads/docs', {}, { bytes: Buffer.from('hello'), type: 'text/plain' }],
  ];
  for (const [name, folder, extra, file] of uploads) {
    const res = await upload(srv, { fileName: name, folder, useUniqueFileName: 'false', ...extra }, { ...file, name });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.size < 4096, `${name} is ${res.body.size} bytes; the table assumes uploads under 4 KB`);
    ids[name] = res.body.fileId;
  }
});

after(async () => {
  await srv?.stop();
});

describe('GET /v1/files: the query table', () => {
  const rows = table();
  test('the table has at least 100 queries', () => {
    assert.ok(rows.length >= 100, `${rows.length} rows`);
  });
  for (const [i, row] of rows.entries()) {
    const label = `#${i + 1} ${typeof row.q === 'string' ? row.q : JSON.stringify(row.q)}`;
    test(label, async () => {
      const res = await api(srv, 'GET', `/v1/files?${queryString(row.q)}`);
      if (row.expect instanceof RegExp) {
        assertApiError(res, 400, row.expect);
        if (specAvailable) assertMatchesSchema(res.body, responseSchemaFor('/v1/files', 'get', 400)!);
        return;
      }
      assert.equal(res.status, 200, res.text);
      assert.ok(Array.isArray(res.body), res.text);
      if (specAvailable) assertMatchesSchema(res.body, responseSchemaFor('/v1/files', 'get', 200)!);
      const got = (res.body as unknown as Json[]).map(keyOf);
      if (row.ordered) assert.deepEqual(got, row.expect);
      else assert.deepEqual([...got].sort(), [...row.expect].sort());
      assert.equal(new Set(got).size, got.length, 'no duplicates');
    });
  }
});

describe('GET /v1/files: shapes and details', () => {
  test('a file result is the FileDetails of the file', async () => {
    const res = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: 'name = "red-dress-winter.jpg"' })}`);
    assert.equal(res.status, 200, res.text);
    const [item] = res.body as unknown as Json[];
    const details = await api(srv, 'GET', `/v1/files/${ids['red-dress-winter.jpg']}/details`);
    assert.deepEqual(item, details.body);
    assert.deepEqual(item.AITags.map((t: Json) => t.name), ['Dress', 'Clothing']);
  });

  test('a folder result is FolderDetails: id, name, its own path, empty custom metadata', async () => {
    const res = await api(srv, 'GET', '/v1/files?type=folder&path=/products/shoes');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, [
      {
        type: 'folder',
        folderId: ids['folder:/products/shoes/running/'],
        name: 'running',
        folderPath: '/products/shoes/running',
        customMetadata: {},
        createdAt: D40,
        updatedAt: D40,
      },
    ]);
    if (specAvailable) assertMatchesSchema((res.body as unknown as Json[])[0], '#/components/schemas/FolderDetails');
  });

  test('a version result is that version, with the file id and its own version info', async () => {
    const res = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: 'type = "file-version" AND tags IN ["draft"]' })}`);
    assert.equal(res.status, 200, res.text);
    const v = (res.body as unknown as Json[])[0] as Json;
    assert.equal(v.type, 'file-version');
    assert.equal(v.fileId, ids['red-dress-summer.jpg']);
    assert.deepEqual(v.versionInfo, { id: `e${ids['red-dress-summer.jpg']!.slice(1)}`, name: 'Version 1' });
    assert.deepEqual(v.tags, ['draft']);
    assert.equal(v.size, 102400);
    assert.match(v.url, /ik-obj-version=/);
  });

  test('id matches files, folders, and the file id of versions', async () => {
    const q = `id IN ["${ids['red-dress-summer.jpg']}", "${ids['folder:/products/']}", "${ids['api-photo.png']}"]`;
    const res = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: q })}`);
    assert.deepEqual((res.body as unknown as Json[]).map(keyOf).sort(), ['api-photo.png', 'folder:/products/', 'red-dress-summer.jpg'].sort());
    const v = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: `type = "file-version" AND id = "${ids['running-shoe-pro.webp']}"` })}`);
    assert.deepEqual((v.body as unknown as Json[]).map(keyOf), [V4]);
    const not = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: `id NOT IN ["${ids['logo.svg']}"]` })}`);
    assert.deepEqual((not.body as unknown as Json[]).map(keyOf).sort(), except('logo.svg').sort());
  });

  test('limit defaults to 1000 and pages never overlap', async () => {
    const seen: string[] = [];
    for (let skip = 0; skip < ALL.length + 3; skip += 4) {
      const res = await api(srv, 'GET', `/v1/files?type=all&sort=ASC_NAME&limit=4&skip=${skip}`);
      assert.equal(res.status, 200, res.text);
      seen.push(...(res.body as unknown as Json[]).map(keyOf));
    }
    assert.deepEqual([...seen].sort(), [...ALL].sort());
    const all = await api(srv, 'GET', '/v1/files?type=all&sort=ASC_NAME');
    assert.deepEqual((all.body as unknown as Json[]).map(keyOf), seen);
  });

  test('a syntax error says where and what was expected', async () => {
    const res = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: 'size > 1mb AND (name = "x" OR' })}`);
    assertApiError(res, 400, 'Invalid searchQuery at position 30: expected a field name, found the end of the query.');
  });

  test('an unknown field and an unsupported operator are named', async () => {
    const a = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: 'size > 1 AND colour = "red"' })}`);
    assertApiError(a, 400, /^Invalid searchQuery at position 14: unknown field "colour"/);
    const b = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: 'format < "jpg"' })}`);
    assertApiError(b, 400, /^Invalid searchQuery at position 8: operator "<" is not supported for field "format"; it supports =, NOT =, IN, NOT IN\.$/);
  });

  test('search follows updates: new tags and metadata are found at once', async () => {
    const id = ids['README.txt']!;
    const patch = await api(srv, 'PATCH', `/v1/files/${id}/details`, { tags: ['freshly-tagged'], description: 'Now described' });
    assert.equal(patch.status, 200, patch.text);
    const byTag = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: 'tags IN ["freshly-tagged"] AND description HAS "described"' })}`);
    assert.deepEqual((byTag.body as unknown as Json[]).map(keyOf), ['README.txt']);
    await api(srv, 'PATCH', `/v1/files/${id}/details`, { tags: null, description: '' });
    const gone = await api(srv, 'GET', `/v1/files?${new URLSearchParams({ searchQuery: 'tags IN ["freshly-tagged"]' })}`);
    assert.deepEqual(gone.body, []);
  });

  test('the management key is required', async () => {
    const res = await api(srv, 'GET', '/v1/files', undefined, { auth: null });
    assertApiError(res, 401);
  });
});

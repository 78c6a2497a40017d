import { badRequest } from '../errors/index.js';
import type { AssetListItem, AssetListQuery, AssetSearch, ListSource } from '../ports/asset-search.js';
import {
  analyzeSearchQuery,
  mentionsFileVersions,
  parseSearchQuery,
  type CheckedCondition,
  type CheckedExpr,
  type CustomType,
  type SortDir,
  type SortKey,
} from '../search/index.js';

/**
 * GET /v1/files: validates the query parameters, parses and analyses `searchQuery`, and asks the
 * AssetSearch port for one page.
 *
 * Rules (ImageKit's documentation, and our choices where it is silent):
 * - `type` (default file) picks files, older file versions, folders, or folders + files ("all").
 *   With a `searchQuery`, `type`, `tags`, `name` and `includeFolder` have no effect: files and
 *   folders are searched, and file versions too when the query names type "file-version".
 * - `path` limits results to the direct children of that folder (files in it, its subfolders);
 *   a whole subtree is `path : "/folder"` inside searchQuery.
 * - Folders are listed before files and files before versions; each kind is sorted by `sort`.
 * - `fileType` filters files and versions; folders are not files and are kept.
 */

export const LIST_TYPES = ['file', 'file-version', 'folder', 'all'] as const;
export const SORTS = [
  'ASC_NAME',
  'DESC_NAME',
  'ASC_CREATED',
  'DESC_CREATED',
  'ASC_UPDATED',
  'DESC_UPDATED',
  'ASC_HEIGHT',
  'DESC_HEIGHT',
  'ASC_WIDTH',
  'DESC_WIDTH',
  'ASC_SIZE',
  'DESC_SIZE',
  'ASC_RELEVANCE',
  'DESC_RELEVANCE',
] as const;
const FILE_TYPES = ['all', 'image', 'non-image'] as const;
export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 1000;

const SORT_KEYS: Record<string, SortKey> = {
  NAME: 'name',
  CREATED: 'created',
  UPDATED: 'updated',
  HEIGHT: 'height',
  WIDTH: 'width',
  SIZE: 'size',
  RELEVANCE: 'relevance',
};

export interface ListServiceDeps {
  search: AssetSearch;
  /** Live custom metadata fields (name → type), read for every search that has a searchQuery. */
  customFieldTypes: () => Promise<ReadonlyMap<string, CustomType>>;
  clock?: () => number;
}

function one(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`Your request contains invalid value for ${name} parameter. Send it once, as a string.`);
  return v;
}

function integer(raw: string, name: string): number {
  if (!/^\s*-?\d{1,15}\s*$/.test(raw)) throw badRequest(`Your request contains invalid value for ${name} parameter. It should be an integer.`);
  return Number(raw);
}

function folderPath(raw: string): string {
  const segs = raw.split('/').filter((s) => s !== '');
  if (segs.some((s) => s === '.' || s === '..')) {
    throw badRequest('Your request contains invalid value for path parameter. "." and ".." are not allowed in a folder path.');
  }
  return segs.length === 0 ? '/' : `/${segs.join('/')}/`;
}

const cond = (c: Omit<CheckedCondition, 'kind' | 'negated'>): CheckedCondition => ({ kind: 'cond', negated: false, ...c });

export class ListService {
  private readonly clock: () => number;

  constructor(private readonly deps: ListServiceDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  async list(rawQuery: unknown): Promise<AssetListItem[]> {
    return this.deps.search.list(await this.plan(rawQuery));
  }

  /** The validated query the port runs (exposed for tests). */
  async plan(rawQuery: unknown): Promise<AssetListQuery> {
    const q = (rawQuery ?? {}) as Record<string, unknown>;
    const type = one(q, 'type') ?? 'file';
    if (!(LIST_TYPES as readonly string[]).includes(type)) {
      throw badRequest(`Your request contains invalid value for type parameter. Please provide one of the following: ${LIST_TYPES.join(', ')}.`);
    }
    const sortRaw = one(q, 'sort') ?? 'ASC_CREATED';
    if (!(SORTS as readonly string[]).includes(sortRaw)) throw badRequest('Your request contains invalid value for sort parameters.');
    const [dir, key] = sortRaw.split('_') as [SortDir, string];
    const fileType = one(q, 'fileType') ?? 'all';
    if (!(FILE_TYPES as readonly string[]).includes(fileType)) {
      throw badRequest(`Your request contains invalid value for fileType parameter. Please provide one of the following: ${FILE_TYPES.join(', ')}.`);
    }
    const limitRaw = one(q, 'limit');
    const limit = limitRaw === undefined ? DEFAULT_LIMIT : integer(limitRaw, 'limit');
    if (limit < 1) throw badRequest(`Minimum value of limit parameter is 1. Value sent is ${limit}.`);
    if (limit > MAX_LIMIT) throw badRequest(`Maximum value of limit parameter is ${MAX_LIMIT}. Value sent is ${limit}.`);
    const skipRaw = one(q, 'skip');
    const skip = skipRaw === undefined ? 0 : integer(skipRaw, 'skip');
    if (skip < 0) throw badRequest(`The value of skip parameter should be greater than or equal to 0. Value sent is ${skip}.`);
    const pathRaw = one(q, 'path');
    const searchRaw = one(q, 'searchQuery');
    const tagsRaw = one(q, 'tags');
    const nameRaw = one(q, 'name');
    const includeFolderRaw = one(q, 'includeFolder');
    if (includeFolderRaw !== undefined && includeFolderRaw !== 'true' && includeFolderRaw !== 'false') {
      throw badRequest('Your request contains invalid value for includeFolder parameter. It should be true or false.');
    }

    const filters: CheckedExpr[] = [];
    if (pathRaw !== undefined && pathRaw.trim() !== '') {
      filters.push(cond({ target: { kind: 'path' }, field: 'path', op: '=', operands: [{ t: 'text', v: folderPath(pathRaw) }] }));
    }
    let sources: ListSource[];
    if (searchRaw !== undefined && searchRaw.trim() !== '') {
      const checked = analyzeSearchQuery(parseSearchQuery(searchRaw), {
        customFields: await this.deps.customFieldTypes(),
        now: this.clock(),
      });
      filters.push(checked);
      sources = mentionsFileVersions(checked) ? ['folder', 'file', 'version'] : ['folder', 'file'];
    } else {
      sources = type === 'file' ? ['file'] : type === 'file-version' ? ['version'] : type === 'folder' ? ['folder'] : ['folder', 'file'];
      if (includeFolderRaw === 'true' && type === 'file') sources = ['folder', 'file'];
      // Legacy filters: tags=a,b (any of them) and an exact name.
      const tags = (tagsRaw ?? '').split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
      if (tags.length > 0) {
        filters.push(cond({ target: { kind: 'tags' }, field: 'tags', op: 'IN', operands: tags.map((v) => ({ t: 'text', v })) }));
      }
      if (nameRaw !== undefined && nameRaw !== '') {
        filters.push(cond({ target: { kind: 'name' }, field: 'name', op: '=', operands: [{ t: 'text', v: nameRaw }] }));
      }
    }
    const filter: CheckedExpr | null = filters.length === 0 ? null : filters.length === 1 ? filters[0]! : { kind: 'and', items: filters };
    return { sources, filter, fileType: fileType as AssetListQuery['fileType'], sort: { key: SORT_KEYS[key]!, dir }, skip, limit };
  }
}

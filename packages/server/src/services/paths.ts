import { badRequest } from '../errors/index.js';

/**
 * Names and paths of the media library. Folder paths are kept as '/', '/a/', '/a/b/'; file paths
 * as '/a/b/name.jpg'. Pure functions: the rules ImageKit documents for names, plus refusals for
 * anything that could escape a folder.
 */

export const MAX_FILE_NAME_LENGTH = 255;
export const MAX_PATH_LENGTH = 1024;

const NAME_CHAR = /[\p{L}\p{M}\p{N}._-]/u;

/** ImageKit: letters, marks, digits, '.', '-' and '_' are kept; anything else becomes '_'. */
export function sanitizeFileName(raw: string, field = 'fileName'): string {
  const name = raw.trim();
  if (name === '') throw badRequest(`Your request is missing ${field} parameter.`);
  if (/[/\\]/.test(name)) {
    throw badRequest(`Your request contains invalid ${field} parameter. A file name cannot contain "/" or "\\".`);
  }
  if ([...name].length > MAX_FILE_NAME_LENGTH) {
    throw badRequest(`Your request contains invalid ${field} parameter. It is longer than ${MAX_FILE_NAME_LENGTH} characters.`);
  }
  const clean = [...name].map((ch) => (NAME_CHAR.test(ch) ? ch : '_')).join('');
  if (/^\.+$/.test(clean)) throw badRequest(`Your request contains invalid ${field} parameter. "${name}" is not a file name.`);
  return clean;
}

const FOLDER_CHAR = /[\p{L}\p{M}\p{N}_-]/u;

/**
 * Normalises a folder path ("a/b", "/a/b/", "a//b") to '/a/b/'. '.' and '..' segments are refused;
 * other characters outside ImageKit's set become '_'.
 */
export function normalizeFolderPath(raw: string | undefined, field = 'folder'): string {
  if (raw === undefined) return '/';
  const segments = raw.split('/').filter((s) => s !== '');
  const out: string[] = [];
  for (const seg of segments) {
    if (seg === '.' || seg === '..') {
      throw badRequest(`Your request contains invalid ${field} parameter. "." and ".." are not allowed in a folder path.`);
    }
    const clean = [...seg.trim()].map((ch) => (FOLDER_CHAR.test(ch) ? ch : '_')).join('');
    if (clean === '') continue;
    if ([...clean].length > MAX_FILE_NAME_LENGTH) {
      throw badRequest(`Your request contains invalid ${field} parameter. A folder name is longer than ${MAX_FILE_NAME_LENGTH} characters.`);
    }
    out.push(clean);
  }
  const path = out.length === 0 ? '/' : `/${out.join('/')}/`;
  if (path.length > MAX_PATH_LENGTH) {
    throw badRequest(`Your request contains invalid ${field} parameter. The path is longer than ${MAX_PATH_LENGTH} characters.`);
  }
  return path;
}

/**
 * Parses an existing file path given by a caller ('/a/b/c.jpg' or 'a/b/c.jpg') without
 * sanitising: it must name a file exactly as stored.
 */
export function parseFilePath(raw: unknown, field: string): { folderPath: string; name: string; filePath: string } {
  if (typeof raw !== 'string' || raw.trim() === '') throw badRequest(`Your request is missing ${field} parameter.`, { extra: { reason: 'MISSING_PARAMETER' } });
  const parts = raw.split('/').filter((s) => s !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) {
    throw badRequest(`Your request contains invalid ${field} parameter.`, { extra: { reason: 'INVALID_PARAMETER' } });
  }
  const name = parts.pop()!;
  const folderPath = parts.length === 0 ? '/' : `/${parts.join('/')}/`;
  return { folderPath, name, filePath: folderPath + name };
}

/** Every ancestor folder of a folder path, outermost first: '/a/b/' → ['/a/', '/a/b/']. */
export function folderChain(folderPath: string): string[] {
  const segs = folderPath.split('/').filter((s) => s !== '');
  return segs.map((_, i) => `/${segs.slice(0, i + 1).join('/')}/`);
}

export function parentOf(folderPath: string): string {
  const segs = folderPath.split('/').filter((s) => s !== '');
  segs.pop();
  return segs.length === 0 ? '/' : `/${segs.join('/')}/`;
}

export function lastSegment(folderPath: string): string {
  const segs = folderPath.split('/').filter((s) => s !== '');
  return segs[segs.length - 1] ?? '';
}

/** 'photo.jpg' + suffix → 'photo_suffix.jpg'; names without an extension get the suffix at the end. */
export function withUniqueSuffix(name: string, suffix: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return `${name}_${suffix}`;
  return `${name.slice(0, dot)}_${suffix}${name.slice(dot)}`;
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
}

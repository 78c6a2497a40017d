import type { FolderRecord } from '../../ports/metadata-store.js';

/** FolderDetails, as list and search return a folder. */
export function folderDetails(f: FolderRecord): Record<string, unknown> {
  return {
    type: 'folder',
    folderId: f.id,
    name: f.name,
    // The folder's own path without the trailing slash: '/images/summer' (the spec's description).
    folderPath: f.path.length > 1 ? f.path.slice(0, -1) : f.path,
    // Tessera keeps no custom metadata on folders; the spec asks for an empty object then.
    customMetadata: {},
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  };
}

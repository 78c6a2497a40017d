/**
 * Store rows for tests that write the metadata store directly (crash and journal tests, list
 * fixtures): a plain non-image asset at /file.bin, with what a test cares about overridden.
 */
import type { AssetState } from '../../src/ports/metadata-store.js';

export function assetState(over: Partial<AssetState> = {}): AssetState {
  const now = new Date().toISOString();
  return {
    name: 'file.bin',
    filePath: '/file.bin',
    folderPath: '/',
    fileType: 'non-image',
    mime: 'application/octet-stream',
    format: 'bin',
    size: 0,
    width: null,
    height: null,
    hasAlpha: false,
    bitRate: null,
    duration: null,
    audioCodec: null,
    videoCodec: null,
    tags: null,
    aiTags: null,
    customCoordinates: null,
    customMetadata: {},
    embeddedMetadata: null,
    metadata: null,
    description: null,
    isPrivate: false,
    isPublished: true,
    blobKey: 'k',
    checksum: '0'.repeat(64),
    versionNumber: 1,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

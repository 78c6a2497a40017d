import { createReadStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, ByteRange } from '../../../ports/blob-store.js';

const KEY_RE = /^[a-z0-9]{8,64}$/;

/** fsync a directory so a rename inside it survives a crash. */
async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Bytes on local disk under <root>/ab/cd/<key>. putFile fsyncs then renames, so a key either
 * holds complete bytes or does not exist.
 */
export class LocalBlobStore implements BlobStore {
  readonly capabilities = { kind: 'local' as const };

  constructor(private readonly root: string) {}

  private pathOf(key: string): string {
    if (!KEY_RE.test(key)) throw new Error(`invalid blob key ${key}`);
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  async putFile(key: string, localPath: string): Promise<void> {
    const dest = this.pathOf(key);
    await mkdir(dirname(dest), { recursive: true });
    const h = await open(localPath, 'r+');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(localPath, dest);
    await syncDir(dirname(dest));
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const p = this.pathOf(key);
    await stat(p); // surface ENOENT as a rejection rather than a stream error
    return range ? createReadStream(p, { start: range.start, end: range.end }) : createReadStream(p);
  }

  localPath(key: string): string {
    return this.pathOf(key);
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch {
      return undefined;
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const src = this.pathOf(fromKey);
    const dest = this.pathOf(toKey);
    await mkdir(dirname(dest), { recursive: true });
    // Blobs are immutable, so a hard link is a safe, instant copy; fall back to a real copy across devices.
    try {
      await link(src, dest);
    } catch {
      const tmp = `${dest}.tmp`;
      await copyFile(src, tmp);
      await this.putFile(toKey, tmp);
    }
    await syncDir(dirname(dest));
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *keys(): AsyncIterable<string> {
    let level1: string[];
    try {
      level1 = await readdir(this.root);
    } catch {
      return;
    }
    for (const a of level1) {
      let level2: string[];
      try {
        level2 = await readdir(join(this.root, a));
      } catch {
        continue;
      }
      for (const b of level2) {
        let names: string[];
        try {
          names = await readdir(join(this.root, a, b));
        } catch {
          continue;
        }
        for (const n of names) if (KEY_RE.test(n)) yield n;
      }
    }
  }
}

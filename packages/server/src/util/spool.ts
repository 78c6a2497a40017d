import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface SpooledFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Temporary files for bytes in flight (uploads, URL fetches). The directory is wiped at start,
 * so a crash mid-upload leaves nothing behind once the server comes back.
 */
export class SpoolDir {
  constructor(readonly dir: string) {}

  async reset(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }

  newPath(): string {
    return join(this.dir, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
  }

  /**
   * Streams src into a new temp file while hashing, and fsyncs it. onChunk can throw to abort
   * (size limits). On failure the partial file is removed.
   */
  async write(src: Readable, onChunk?: (total: number) => void): Promise<SpooledFile> {
    const path = this.newPath();
    const hash = createHash('sha256');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        try {
          onChunk?.(size);
        } catch (e) {
          cb(e as Error);
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      // flush: fsync before close, so the bytes are on disk before anything points at them.
      await pipeline(src, counter, createWriteStream(path, { flush: true }));
    } catch (e) {
      await rm(path, { force: true });
      throw e;
    }
    return { path, size, sha256: hash.digest('hex') };
  }

  async hashFile(path: string): Promise<{ size: number; sha256: string }> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(path)) {
      size += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    return { size, sha256: hash.digest('hex') };
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }
}

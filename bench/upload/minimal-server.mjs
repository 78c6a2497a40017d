#!/usr/bin/env node
// The ceiling for bench/upload: the least an HTTP upload handler can do with Fastify + @fastify/multipart.
// It streams the `file` part to a file on disk while hashing it (sha256) and answers with size + hash.
// No auth, no database, no probing. With MINIMAL_FSYNC=1 the file is also fsynced before close.
//
// Environment: PORT (required), DATA_DIR (required), MINIMAL_FSYNC (optional, "1" to fsync),
// MINIMAL_FLUSH_EVERY_MB (optional, experiment: fdatasync every N MiB while streaming, so the final fsync
// has little left to write).
import multipart from '@fastify/multipart';
import Fastify from 'fastify';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, fdatasync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const port = Number(process.env.PORT);
const dataDir = process.env.DATA_DIR;
const fsync = process.env.MINIMAL_FSYNC === '1';
const flushEvery = Number(process.env.MINIMAL_FLUSH_EVERY_MB ?? 0) * 1024 * 1024;
if (!Number.isInteger(port) || port <= 0 || !dataDir) {
  process.stderr.write('minimal-server: PORT and DATA_DIR are required\n');
  process.exit(2);
}
mkdirSync(dataDir, { recursive: true });

const app = Fastify({ logger: false, requestTimeout: 0 });
await app.register(multipart);

app.get('/healthz', async () => ({ status: 'ok' }));

app.post('/api/v1/files/upload', async (req, reply) => {
  let result = null;
  for await (const part of req.parts({ limits: { fileSize: 4 * 1024 ** 3, files: 1 } })) {
    if (part.type !== 'file') continue; // text fields (fileName) are read and ignored
    const hash = createHash('sha256');
    let size = 0;
    // Files are kept (not unlinked) so the kernel has to write them out like a real store would;
    // the bench removes the whole data dir at the end.
    const path = join(dataDir, `${Date.now()}-${randomBytes(6).toString('hex')}.bin`);
    const out = createWriteStream(path, { flush: fsync });
    let unflushed = 0;
    let flushing = null;
    const hasher = new Transform({
      transform(chunk, _enc, cb) {
        size += chunk.length;
        hash.update(chunk);
        unflushed += chunk.length;
        if (flushEvery > 0 && unflushed >= flushEvery && !flushing && typeof out.fd === 'number') {
          unflushed = 0;
          // Not awaited: writeback of what is already written overlaps with receiving the rest.
          flushing = new Promise((resolve) => fdatasync(out.fd, () => resolve())).then(() => (flushing = null));
        }
        cb(null, chunk);
      },
      flush(cb) {
        // The fd must stay open until an outstanding fdatasync has finished.
        Promise.resolve(flushing).then(() => cb(), cb);
      },
    });
    await pipeline(part.file, hasher, out);
    result = { size, sha256: hash.digest('hex') };
  }
  if (!result) return reply.status(400).send({ message: 'missing file part' });
  return result;
});

await app.listen({ port, host: '127.0.0.1' });

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

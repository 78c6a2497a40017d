/**
 * The spool's write path: one stage that counts, hashes and writes (writev of whatever queued up
 * while a write was in flight), with fdatasyncs issued in the background as the bytes stream in.
 * Real files in a temp dir; the sources are real streams.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { SpoolDir } from '../../src/util/spool.js';

const MiB = 1024 * 1024;
const root = mkdtempSync(join(tmpdir(), 'tessera-spool-'));
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
async function spoolDir(options: ConstructorParameters<typeof SpoolDir>[1] = {}): Promise<SpoolDir> {
  const spool = new SpoolDir(join(root, `spool-${dirs++}`), options);
  await spool.reset();
  return spool;
}

const openFds = () => readdirSync('/proc/self/fd').length;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Chunks of uneven sizes (1 byte to 200 KiB), as a socket and a multipart parser hand them over. */
function unevenChunks(total: number): Buffer[] {
  const out: Buffer[] = [];
  for (let left = total; left > 0; ) {
    const n = Math.min(left, 1 + Math.floor(Math.random() * 200 * 1024));
    out.push(randomBytes(n));
    left -= n;
  }
  return out;
}

/**
 * Yields the chunks, now and then in a burst within one tick, so several queue up behind a write in
 * flight (the writev path), and now and then after a pause (the single-write path). Fails after
 * `failAfter` bytes when given.
 */
async function* paced(chunks: Buffer[], failAfter = Infinity): AsyncGenerator<Buffer> {
  let sent = 0;
  for (let i = 0; i < chunks.length; i++) {
    if (sent >= failAfter) throw new Error('the source broke');
    if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
    else if (i % 3 === 0) await new Promise((r) => setImmediate(r));
    yield chunks[i]!;
    sent += chunks[i]!.length;
  }
}

describe('SpoolDir.write', () => {
  test('bytes, size and sha256 survive many background fdatasyncs and batched writes', async () => {
    const spool = await spoolDir({ syncEveryBytes: 1 * MiB, bufferBytes: 256 * 1024 });
    const chunks = unevenChunks(24 * MiB + 123);
    const all = Buffer.concat(chunks);
    const fds = openFds();
    const out = await spool.write(Readable.from(paced(chunks)));
    assert.equal(out.size, all.length);
    assert.equal(out.sha256, sha256(all));
    const onDisk = readFileSync(out.path);
    assert.equal(onDisk.length, all.length);
    assert.ok(onDisk.equals(all), 'the file holds exactly the bytes sent, in order');
    // With a sync every MiB, 24 MiB cannot pass without several (one at a time, so fewer than 24).
    assert.ok(spool.backgroundSyncs >= 4, `expected background syncs, saw ${spool.backgroundSyncs}`);
    assert.equal(openFds(), fds, 'the descriptor is closed once the write resolves');
  });

  test('with background syncs off, the bytes are the same', async () => {
    const spool = await spoolDir({ syncEveryBytes: 0 });
    const chunks = unevenChunks(3 * MiB);
    const all = Buffer.concat(chunks);
    const out = await spool.write(Readable.from(paced(chunks)));
    assert.equal(out.sha256, sha256(all));
    assert.ok(readFileSync(out.path).equals(all));
    assert.equal(spool.backgroundSyncs, 0);
  });

  test('an empty source gives an empty, hashed file', async () => {
    const spool = await spoolDir();
    const out = await spool.write(Readable.from([]));
    assert.equal(out.size, 0);
    assert.equal(out.sha256, sha256(new Uint8Array()));
    assert.equal(statSync(out.path).size, 0);
  });

  test('a limit thrown from onChunk mid-stream removes the partial file and closes it', async () => {
    const spool = await spoolDir({ syncEveryBytes: 512 * 1024, bufferBytes: 128 * 1024 });
    const chunks = unevenChunks(16 * MiB);
    const fds = openFds();
    const seen: number[] = [];
    await assert.rejects(
      spool.write(Readable.from(paced(chunks)), (total) => {
        seen.push(total);
        if (total > 6 * MiB) throw new Error('too large');
      }),
      /too large/,
    );
    assert.ok(seen.length > 1 && seen.every((n, i) => i === 0 || n > seen[i - 1]!), 'onChunk sees a growing running total');
    assert.ok(spool.backgroundSyncs >= 2, 'syncs were running when the limit hit');
    assert.deepEqual(readdirSync(spool.dir), [], 'no partial file is left');
    assert.equal(openFds(), fds, 'no descriptor is leaked');
  });

  test('a source that fails mid-stream removes the partial file and closes it', async () => {
    const spool = await spoolDir({ syncEveryBytes: 512 * 1024, bufferBytes: 128 * 1024 });
    const fds = openFds();
    await assert.rejects(spool.write(Readable.from(paced(unevenChunks(16 * MiB), 5 * MiB))), /the source broke/);
    assert.deepEqual(readdirSync(spool.dir), []);
    assert.equal(openFds(), fds);
  });

  test('a source destroyed from outside (a client gone) removes the partial file', async () => {
    const spool = await spoolDir({ syncEveryBytes: 512 * 1024 });
    const fds = openFds();
    const src = Readable.from(paced(unevenChunks(64 * MiB)));
    let bytes = 0;
    src.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > 4 * MiB) src.destroy(new Error('aborted'));
    });
    src.pause();
    await assert.rejects(spool.write(src), /aborted/);
    assert.deepEqual(readdirSync(spool.dir), []);
    assert.equal(openFds(), fds);
  });
});

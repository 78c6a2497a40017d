#!/usr/bin/env node
// Load generator for bench/upload, run as its own process so its memory and CPU are not counted
// against the server being measured (it still shares the machine's cores).
//
// usage: node client.mjs '<json>' where json = { url, auth?, size, count }
//   count = 1 → one upload of `size` bytes; count > 1 → `count` uploads of `size` bytes, all at once.
// The multipart body is generated as a stream from a small pool of random 1 MiB buffers (never the
// whole body in memory) and sent with node:http with an exact Content-Length.
// Prints one JSON line: { ok, failed, bytes, wallMs, latenciesMs: [...], tailsMs: [...], errors: [...] }.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';

const opts = JSON.parse(process.argv[2] ?? '{}');
const { url, auth, size, count } = opts;
if (!url || !Number.isInteger(size) || size <= 0 || !Number.isInteger(count) || count <= 0) {
  process.stderr.write('client: expected {url, size, count[, auth]}\n');
  process.exit(2);
}

const CHUNK = 1024 * 1024;
const pool = Array.from({ length: 8 }, () => randomBytes(CHUNK));
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function multipartParts(boundary, fileName) {
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="fileName"\r\n\r\n${fileName}\r\n` +
      `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { head, tail };
}

/** One upload; resolves with its latency (ms) once the response body has been read. */
function upload(index) {
  return new Promise((resolve, reject) => {
    const boundary = `----tesserabench${randomBytes(12).toString('hex')}`;
    const { head, tail } = multipartParts(boundary, `bench-${index}.bin`);
    const started = process.hrtime.bigint();
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + size + tail.length),
        ...(auth ? { authorization: auth } : {}),
      },
    });
    let settled = false;
    let bodySentAt = 0n;
    const fail = (e) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(e);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const body = [];
      res.on('data', (d) => body.push(d));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const now = process.hrtime.bigint();
        const ms = Number(now - started) / 1e6;
        // Time from the last body byte handed to the socket until the whole response arrived: the server's
        // work after the upload (fsync, rename, database, response) plus whatever it had not yet read.
        const tailMs = bodySentAt ? Number(now - bodySentAt) / 1e6 : NaN;
        const text = Buffer.concat(body).toString('utf8');
        if (res.statusCode !== 200) {
          reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          return;
        }
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          reject(new Error(`bad JSON response: ${text.slice(0, 200)}`));
          return;
        }
        if (parsed.size !== size) {
          reject(new Error(`server reported size ${parsed.size}, sent ${size}`));
          return;
        }
        resolve({ ms, tailMs });
      });
    });
    (async () => {
      if (!req.write(head)) await once(req, 'drain');
      let sent = 0;
      let i = index;
      while (sent < size && !settled) {
        const n = Math.min(CHUNK, size - sent);
        const buf = pool[i++ % pool.length];
        if (!req.write(n === CHUNK ? buf : buf.subarray(0, n))) await once(req, 'drain');
        sent += n;
      }
      req.end(tail, () => {
        bodySentAt = process.hrtime.bigint();
      });
    })().catch(fail);
  });
}

const t0 = process.hrtime.bigint();
const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => upload(i)));
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
const done = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
const latenciesMs = done.map((d) => d.ms);
const tailsMs = done.map((d) => d.tailMs);
const errors = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason?.message ?? r.reason));
process.stdout.write(
  JSON.stringify({
    ok: latenciesMs.length,
    failed: errors.length,
    bytes: latenciesMs.length * size,
    wallMs,
    latenciesMs,
    tailsMs,
    errors: [...new Set(errors)].slice(0, 5),
  }) + '\n',
);
agent.destroy();

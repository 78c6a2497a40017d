// The ceiling for an HTTP transform server on this machine: Fastify + sharp, one resize per request,
// no cache, no parsing beyond the route. Usage: node minimal-server.mjs <port> <image path> <width>
import Fastify from 'fastify';
import sharp from 'sharp';

const [port, file, width] = process.argv.slice(2);
const w = Number(width);
const app = Fastify({ logger: false });
app.get('/*', async (_req, reply) => {
  const data = await sharp(file).resize({ width: w }).jpeg({ quality: 80 }).toBuffer();
  return reply.header('content-type', 'image/jpeg').send(data);
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');

import { parseArgs } from 'node:util';
import type { ConfigInput } from './config/index.js';
import { migrate, serve } from './main.js';

const USAGE = `usage: tessera serve [options]     run the server
       tessera migrate [options]   apply pending database migrations, then exit

options (each also read from the environment variable in brackets):
  --port N               [TESSERA_PORT]              default 8080
  --host HOST            [TESSERA_HOST]              default 0.0.0.0
  --workers N            [TESSERA_WORKERS]           processes serving the port, or auto (one per core); default 1
  --data-dir DIR         [TESSERA_DATA_DIR]          default ./data
  --public-url URL       [TESSERA_PUBLIC_URL]        default http://localhost:<port>
  --private-key KEY      [TESSERA_PRIVATE_KEY]       generated on first start when unset
  --public-key KEY       [TESSERA_PUBLIC_KEY]
  --imagekit-id ID       [TESSERA_IMAGEKIT_ID]       default tessera
  --max-upload-bytes N   [TESSERA_MAX_UPLOAD_BYTES]  default 2gb
  --allow-private-urls   [TESSERA_ALLOW_PRIVATE_URLS] URL uploads may fetch private addresses
  --rate-limit SPEC      [TESSERA_RATE_LIMIT]        e.g. 100/60s; default off
  --log-level LEVEL      [TESSERA_LOG_LEVEL]         default info

  the database: [TESSERA_DATABASE_URL] postgres://… for a shared PostgreSQL (scale-out); unset: SQLite in the data dir
`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      workers: { type: 'string' },
      'data-dir': { type: 'string' },
      'public-url': { type: 'string' },
      'private-key': { type: 'string' },
      'public-key': { type: 'string' },
      'imagekit-id': { type: 'string' },
      'max-upload-bytes': { type: 'string' },
      'allow-private-urls': { type: 'boolean' },
      'rate-limit': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0] ?? 'serve';
  if (values.help || (command !== 'serve' && command !== 'migrate')) {
    process.stdout.write(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const input: ConfigInput = {};
  if (values.port !== undefined) input.port = values.port;
  if (values.host !== undefined) input.host = values.host;
  if (values.workers !== undefined) input.workers = values.workers;
  if (values['data-dir'] !== undefined) input.dataDir = values['data-dir'];
  if (values['public-url'] !== undefined) input.publicUrl = values['public-url'];
  if (values['private-key'] !== undefined) input.privateKey = values['private-key'];
  if (values['public-key'] !== undefined) input.publicKey = values['public-key'];
  if (values['imagekit-id'] !== undefined) input.imagekitId = values['imagekit-id'];
  if (values['max-upload-bytes'] !== undefined) input.maxUploadBytes = values['max-upload-bytes'];
  if (values['allow-private-urls'] !== undefined) input.allowPrivateUrls = values['allow-private-urls'];
  if (values['rate-limit'] !== undefined) input.rateLimit = values['rate-limit'];
  if (values['log-level'] !== undefined) input.logLevel = values['log-level'];
  if (command === 'migrate') await migrate(input);
  else await serve(input);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`tessera: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});

import cluster from 'node:cluster';
import type { App, AppOverrides } from './app.js';
import { ConfigError, resolveConfig, type Config, type ConfigInput } from './config/index.js';

/** The settings, or exit 2 with the one-line reason. */
function configOrExit(input: ConfigInput): Config {
  try {
    return resolveConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tessera: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

/**
 * `tessera migrate`: applies pending migrations to the configured database (the SQLite file in
 * the data dir, or PostgreSQL) and says which. Serving nodes migrate at start too; running this
 * first lets a deployment upgrade the schema once, before it rolls the nodes.
 */
export async function migrate(input: ConfigInput = {}): Promise<void> {
  const config = configOrExit(input);
  const { openStore } = await import('./app.js');
  const store = await openStore(config, { migrate: false });
  try {
    const applied = await store.migrate();
    const where = config.database.kind === 'postgres' ? 'PostgreSQL' : `SQLite (${config.dataDir}/tessera.db)`;
    process.stdout.write(
      applied.length === 0
        ? `tessera: ${where} is up to date; no migrations to apply\n`
        : `tessera: applied ${applied.length} migration(s) to ${where}: ${applied.join(', ')}\n`,
    );
  } finally {
    await store.close();
  }
}

/** The app, or exit 2 with the one-line reason when its settings point at nothing. */
async function appOrExit(config: Config, overrides: AppOverrides = {}): Promise<App> {
  // Loaded only once the settings are valid, so a bad setting fails in milliseconds, not after
  // loading sharp, the stores and every route.
  const { buildApp } = await import('./app.js');
  try {
    return await buildApp(config, overrides);
  } catch (e) {
    // Settings that pass validation can still point at nothing (an S3 bucket that does not answer).
    if (e instanceof ConfigError) {
      process.stderr.write(`tessera: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

/** On SIGTERM / SIGINT (or `also`): finishes in-flight requests, closes the app, exits. */
function closeOnSignals(app: App, also?: (shutdown: (reason: string) => void) => void): void {
  let closing = false;
  const shutdown = (reason: string) => {
    if (closing) return;
    closing = true;
    app.server.log.info({ reason }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  also?.(shutdown);
}

/**
 * Reads config, builds the app, listens; finishes in-flight requests on SIGTERM/SIGINT. With
 * TESSERA_WORKERS > 1 this process becomes the cluster primary (cluster.ts) and each worker it
 * forks comes back here as a cluster worker.
 */
export async function serve(input: ConfigInput = {}): Promise<void> {
  const config = configOrExit(input);
  if (cluster.isWorker) return serveAsWorker(config);
  if (config.keysGenerated) {
    process.stdout.write(
      `tessera: generated API keys (kept in ${config.dataDir}/keys.json)\n  public key:  ${config.publicKey}\n  private key: ${config.privateKey}\n`,
    );
  }
  if (config.webhooks.secretGenerated) {
    process.stdout.write(`tessera: generated a webhook signing secret (kept in ${config.dataDir}/webhook-secret)\n`);
  }
  if (config.workers > 1) {
    const { runPrimary } = await import('./cluster.js');
    try {
      await runPrimary(config, {
        say: (line) => process.stdout.write(`${line}\n`),
        warn: (line) => process.stderr.write(`${line}\n`),
      });
    } catch (e) {
      // The data dir is prepared first, so settings that point at nothing fail here (as in appOrExit).
      if (e instanceof ConfigError) {
        process.stderr.write(`tessera: ${e.message}\n`);
        process.exit(2);
      }
      throw e;
    }
    return;
  }
  const app = await appOrExit(config);
  await app.server.listen({ port: config.port, host: config.host });
  process.stdout.write(`tessera listening on ${config.publicUrl} (URL endpoint ${config.publicUrl}/${config.imagekitId}/)\n`);
  closeOnSignals(app);
}

/** A worker of the cluster: the same app on the shared port, with its own cache and spool. */
async function serveAsWorker(config: Config): Promise<void> {
  const [{ WorkerChannel }, { WORKER_INDEX_ENV }] = await Promise.all([import('./adapters/cluster/ipc.js'), import('./cluster.js')]);
  const index = Number(process.env[WORKER_INDEX_ENV] ?? '0');
  const channel = new WorkerChannel();
  const app = await appOrExit(config, { cluster: { index, count: config.workers, channel } });
  await app.server.listen({ port: config.port, host: config.host });
  channel.send({ t: 'tessera:listening' });
  // Without its primary a worker gets no more connections: it finishes what it has and goes.
  closeOnSignals(app, (shutdown) => process.on('disconnect', () => shutdown('the cluster primary went away')));
}

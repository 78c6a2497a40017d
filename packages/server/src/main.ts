import { ConfigError, resolveConfig, type ConfigInput } from './config/index.js';

/** Reads config, builds the app, listens; finishes in-flight requests on SIGTERM/SIGINT. */
export async function serve(input: ConfigInput = {}): Promise<void> {
  let config;
  try {
    config = resolveConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`tessera: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  // Loaded only once the settings are valid, so a bad setting fails in milliseconds, not after
  // loading sharp, the stores and every route.
  const { buildApp } = await import('./app.js');
  const app = await buildApp(config);
  if (config.keysGenerated) {
    process.stdout.write(
      `tessera: generated API keys (kept in ${config.dataDir}/keys.json)\n  public key:  ${config.publicKey}\n  private key: ${config.privateKey}\n`,
    );
  }
  if (config.webhooks.secretGenerated) {
    process.stdout.write(`tessera: generated a webhook signing secret (kept in ${config.dataDir}/webhook-secret)\n`);
  }
  await app.server.listen({ port: config.port, host: config.host });
  process.stdout.write(`tessera listening on ${config.publicUrl} (URL endpoint ${config.publicUrl}/${config.imagekitId}/)\n`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.server.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

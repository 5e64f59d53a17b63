// The service's start for index.ts and snapshot.ts; SIGTERM/SIGINT drain, `migrate` migrates and exits.
import type { Server } from '@hapi/hapi';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createServer } from './server.ts';
import { isAddressInUse, portInUseError } from './lib/port-in-use.ts';

async function main(command: string | undefined): Promise<void> {
  const config = loadConfig();
  if (command === 'migrate') {
    await migrate(config);
    return;
  }
  if (command !== undefined)
    throw new ConfigError(`unknown command "${command}" (expected nothing or "migrate")`);

  const server = await createServer(config);
  installShutdown(server, config);
  try {
    await server.start();
  } catch (error) {
    if (!isAddressInUse(error)) throw error;
    throw portInUseError(
      { server: 'The API', host: config.host, port: config.port, variable: 'PORT' },
      error,
    );
  }
}

async function migrate(config: Config): Promise<void> {
  const server = await createServer(config);
  // Never started, so not stopped (no "server stopped" line): only the ORM closes.
  let orm: Awaited<ReturnType<typeof server.plugins.database.getOrm>> | undefined;
  try {
    const { runMigrations } = await import('./db/orm.ts');
    orm = await server.plugins.database.getOrm();
    const applied = await runMigrations(orm);
    server.logger.info({ applied }, `applied ${applied.length} migration(s)`);
  } finally {
    await orm?.close();
    server.logger.flush();
  }
}

function installShutdown(server: Server, config: Config): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    void server
      .stop({ timeout: config.shutdownTimeoutMs })
      .then(
        () => 0,
        (error: unknown) => {
          server.logger.error({ err: error }, 'shutdown failed');
          return 1;
        },
      )
      .then((code) => {
        server.logger.flush(() => process.exit(code));
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

export function runService(command: string | undefined): void {
  main(command).catch((error: unknown) => {
    // Config errors are for humans: print the message, not a stack.
    const message =
      error instanceof ConfigError ? error.message : error instanceof Error ? error.stack : String(error);
    process.stderr.write(`${message ?? String(error)}\n`);
    process.exit(1);
  });
}

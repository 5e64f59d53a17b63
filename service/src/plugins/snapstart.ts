// SnapStart's two hooks, which the Web Adapter POSTs (empty, from loopback) before the snapshot and after a
// restore: what each closes or renews and why is in docs/performance.md#snapstart.
import { randomUUID } from 'node:crypto';
import type { Lifecycle, Plugin, Request, ResponseToolkit } from '@hapi/hapi';
import { loadSecretReader } from '../db/database-url.ts';
import { DomainError } from '../errors/domain-error.ts';

/** Node's randomUUID draws ids from a cached batch of this many (lib/internal/crypto/random.js, kBatchSize). */
const RANDOM_UUID_BATCH = 128;

/** How long the after-restore hook waits for a pool left open (its sockets are dead after a restore). */
const STALE_POOL_CLOSE_MS = 1000;

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Only the adapter's own call: it reaches the server directly, so it carries none of the x-amzn-* context
 * headers the adapter sets on every request it forwards, and comes from loopback.
 */
function isAdapterHookCall(request: Request): boolean {
  return (
    request.headers['x-amzn-request-context'] === undefined &&
    request.headers['x-amzn-lambda-context'] === undefined &&
    LOOPBACK.has(request.info.remoteAddress)
  );
}

/** Discards what is left of the batch the snapshot holds: the next randomUUID fills a new one. */
function renewRandomUuidBatch(): void {
  for (let i = 0; i < RANDOM_UUID_BATCH; i++) randomUUID();
}

export const snapStartPlugin: Plugin<void> = {
  name: 'snapstart',
  dependencies: ['database', 'errors', 'request-context'],
  register(server) {
    const { inLambda, snapStartHooks } = server.app.config;
    // Outside Lambda the adapter's own guard (403 for API requests to these paths) is absent.
    if (!inLambda) return;

    // Indistinguishable from a path that does not exist, a body too large included.
    const refuseOthers = (request: Request) => {
      if (!isAdapterHookCall(request)) throw new DomainError('ROUTE_NOT_FOUND');
    };
    const payloadFailure: Lifecycle.FailAction = (request, _h, error) => {
      refuseOthers(request);
      throw error ?? new Error('payload failed without an error');
    };

    const hookRoute = (path: string | undefined, run: () => Promise<void>) => {
      if (path === undefined) return;
      server.route({
        method: 'POST',
        path,
        options: {
          auth: false,
          description: 'SnapStart hook of the Lambda Web Adapter (not reachable through API Gateway)',
          // The adapter's call is empty (hapi wants a limit of at least 1 byte).
          payload: { parse: false, output: 'data', maxBytes: 1, failAction: payloadFailure },
          handler: async (request: Request, h: ResponseToolkit) => {
            refuseOthers(request);
            await run();
            // The hook's own connection must not outlive it into the snapshot.
            return h.response().code(204).header('connection', 'close');
          },
        },
      });
    };

    hookRoute(snapStartHooks.beforeCheckpointPath, async () => {
      await server.plugins.database.close();
      // Code only (no connection, no secret): a restored instance's first database request pays its connection.
      const { database } = server.app.config;
      const [{ loadOrmCode }] = await Promise.all([import('../db/orm.ts'), loadSecretReader(database)]);
      await loadOrmCode(database);
      // Keep-alive connections from before the snapshot would be dead after it.
      server.listener.closeIdleConnections();
      server.logger.info({ tags: ['snapstart'] }, 'snapstart: ready for the checkpoint');
      await new Promise<void>((resolve) => {
        server.logger.flush(() => {
          resolve();
        });
      });
    });

    hookRoute(snapStartHooks.afterRestorePath, async () => {
      renewRandomUuidBatch();
      // Normally closed before the checkpoint; a pool still open holds dead sockets: drop it, bounded.
      await Promise.race([
        server.plugins.database.close().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, STALE_POOL_CLOSE_MS).unref()),
      ]);
      server.listener.closeIdleConnections();
      server.logger.info({ tags: ['snapstart'] }, 'snapstart: restored');
    });
  },
};

// Owns the ORM. It is created on the first request that needs the database (not at boot), so the
// liveness route and cold starts never wait for the driver stack or a slow database; a failed
// start-up is retried by the next request. Each request gets its own EntityManager fork.
import type { Plugin, Request } from '@hapi/hapi';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.ts';
import { resolveDatabaseUrl } from '../db/database-url.ts';
import { DomainError } from '../errors/domain-error.ts';

export interface DatabasePluginOptions {
  readonly config: Config;
}

export interface DatabaseApi {
  /** The shared ORM, created on first use. */
  getOrm(): Promise<MikroORM>;
  /** This request's EntityManager fork (created on first use in the request). */
  em(request: Request): Promise<EntityManager>;
}

export const databasePlugin: Plugin<DatabasePluginOptions> = {
  name: 'database',
  register(server, { config }) {
    let pending: Promise<MikroORM> | undefined;
    let orm: MikroORM | undefined;

    const getOrm = (): Promise<MikroORM> => {
      pending ??= (async () => {
        const [{ createOrm }, url] = await Promise.all([
          import('../db/orm.ts'),
          resolveDatabaseUrl(config.database),
        ]);
        orm = await createOrm({ ...config.database, url });
        return orm;
      })().catch((error: unknown) => {
        pending = undefined;
        // The cause (bad secret, unreachable AWS API, …) is for operators; clients get a plain 503.
        server.log(['error', 'database'], error instanceof Error ? error : new Error(String(error)));
        throw new DomainError('DATABASE_UNAVAILABLE');
      });
      return pending;
    };

    const api: DatabaseApi = {
      getOrm,
      async em(request) {
        request.app.em ??= (await getOrm()).em.fork();
        return request.app.em;
      },
    };
    server.expose(api);

    server.ext('onPostStop', async () => {
      await orm?.close();
      orm = undefined;
      pending = undefined;
    });
  },
};

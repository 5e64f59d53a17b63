// Owns the ORM. It is created on the first request that needs the database (not at boot), so the
// liveness route and cold starts never wait for the driver stack or a slow database; a failed
// start-up is retried by the next request. The start-up opens one connection, so a database that refuses
// us (TLS trust, host name, credentials) fails here, once, in this plugin's log line rather than in
// whichever query came first. Each request gets its own EntityManager fork.
import type { Plugin, Request } from '@hapi/hapi';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.ts';
import { explainDatabaseTlsError } from '../db/database-tls-error.ts';
import { resolveDatabaseUrl } from '../db/database-url.ts';
import { DomainError } from '../errors/domain-error.ts';

export interface DatabasePluginOptions {
  readonly config: Config;
}

export interface DatabaseApi {
  /** The shared ORM, created on first use. */
  getOrm(): Promise<MikroORM>;
  /**
   * This request's EntityManager fork (created on first use in the request). Only the request's state is
   * read, so a route typed with its own ReqRef (params, payload, query) can pass its request.
   */
  em(request: Pick<Request, 'app'>): Promise<EntityManager>;
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
        const created = await createOrm({ ...config.database, url });
        try {
          await created.em.getConnection().execute('select 1');
        } catch (error) {
          await created.close();
          throw error;
        }
        orm = created;
        return orm;
      })().catch((error: unknown) => {
        pending = undefined;
        // The cause (bad secret, unreachable AWS API, untrusted certificate, …) is for operators, with
        // the setting that fixes it where we know one; clients get a plain 503.
        const logged =
          explainDatabaseTlsError(error) ?? (error instanceof Error ? error : new Error(String(error)));
        server.log(['error', 'database'], logged);
        // The cause lets callers tell a transient failure (retry) from a bad certificate or password.
        throw new DomainError('DATABASE_UNAVAILABLE', undefined, { cause: logged });
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

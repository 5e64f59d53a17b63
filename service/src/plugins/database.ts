// Owns the ORM. It is created on the first request that needs the database (not at boot), so the
// liveness route and cold starts never wait for the driver stack or a slow database; a failed
// start-up is retried by the next request. The start-up opens one connection, so a database that refuses
// us (TLS trust, host name, credentials) fails here, once, in this plugin's log line rather than in
// whichever query came first. Each request gets its own EntityManager fork, once the connection gate
// admits it (see docs/api.md, "Overload"): it holds its slot until its response is ready and its work ended.
import type { Plugin, Request } from '@hapi/hapi';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.ts';
import { ConnectionGate, OVERLOAD_RETRY_AFTER_SECONDS } from '../db/connection-gate.ts';
import { explainDatabaseTlsError } from '../db/database-tls-error.ts';
import { resolveDatabaseUrl } from '../db/database-url.ts';
import { codedBoom } from '../errors/coded-boom.ts';
import { DomainError } from '../errors/domain-error.ts';

export interface DatabasePluginOptions {
  readonly config: Config;
}

export interface DatabaseApi {
  /** The shared ORM, created on first use. */
  getOrm(): Promise<MikroORM>;
  /**
   * Runs `work` with this request's EntityManager fork once the connection gate admitted the request (a
   * 503 OVERLOADED if it cannot within DATABASE_QUEUE_TIMEOUT_MS of its arrival). The request keeps its
   * place until its response is ready AND no work of it still runs: a handler cut off by the route
   * timeout or by a client that left may still hold a connection. Work is not started for a request
   * whose response is already over. Only the request's state is read, so a route typed with its own
   * ReqRef can pass its request.
   */
  run<T>(request: Pick<Request, 'app' | 'info'>, work: (em: EntityManager) => Promise<T>): Promise<T>;
}

/** One request's place in the gate. */
interface Admission {
  readonly granted: Promise<() => void>;
  /** Work started through run() and not yet settled. */
  running: number;
  /** Its response is ready (or the request ended without one). */
  ended: boolean;
}

export const databasePlugin: Plugin<DatabasePluginOptions> = {
  name: 'database',
  register(server, { config }) {
    let pending: Promise<MikroORM> | undefined;
    let orm: MikroORM | undefined;
    const gate = new ConnectionGate(config.database.poolMax);
    // Keyed by request.app: one admission per request, however often it runs database work.
    const admissions = new WeakMap<object, Admission>();

    const admit = (request: Pick<Request, 'app' | 'info'>): Admission => {
      let admission = admissions.get(request.app);
      if (admission === undefined) {
        const granted = gate
          .acquire(request.info.received + config.database.queueTimeoutMs)
          // The gate rejects only when the deadline passed: an OverloadError.
          .catch(() => {
            throw codedBoom('OVERLOADED', { 'retry-after': String(OVERLOAD_RETRY_AFTER_SECONDS) });
          });
        admission = { granted, running: 0, ended: false };
        admissions.set(request.app, admission);
      }
      return admission;
    };
    // The slot goes back once the response is ready and no work runs; still queued, as soon as granted.
    const releaseIfIdle = (admission: Admission): void => {
      if (!admission.ended || admission.running > 0) return;
      void admission.granted.then(
        (done) => {
          done();
        },
        () => undefined,
      );
    };
    const end = (request: Request): void => {
      const admission = admissions.get(request.app);
      if (admission === undefined || admission.ended) return;
      admission.ended = true;
      releaseIfIdle(admission);
    };

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
      async run(request, work) {
        const admission = admit(request);
        admission.running += 1;
        try {
          await admission.granted;
          // The client left or the route timed out while this waited: nobody reads the answer.
          if (admission.ended) throw codedBoom('OVERLOADED');
          request.app.em ??= (await getOrm()).em.fork();
          return await work(request.app.em);
        } finally {
          admission.running -= 1;
          releaseIfIdle(admission);
        }
      },
    };
    server.expose(api);

    // The slot is free once the response is ready (its bytes may still be on their way to the client);
    // onPostResponse covers a request whose lifecycle ended without one.
    server.ext('onPreResponse', (request, h) => {
      end(request);
      return h.continue;
    });
    server.ext('onPostResponse', (request, h) => {
      end(request);
      return h.continue;
    });

    server.ext('onPostStop', async () => {
      await orm?.close();
      orm = undefined;
      pending = undefined;
    });
  },
};

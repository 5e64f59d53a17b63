// Owns the ORM, created on the first request that needs it so liveness and cold starts never wait for it;
// each request works on its own EntityManager fork inside the connection gate (docs/api.md, "Overload").
import type { Plugin, Request } from '@hapi/hapi';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.ts';
import {
  ConnectionGate,
  isOutOfConnectionSlots,
  isPoolWaitTimeout,
  OVERLOAD_RETRY_AFTER_SECONDS,
  poolSize,
} from '../db/connection-gate.ts';
import { explainDatabaseTlsError } from '../db/database-tls-error.ts';
import { resolveDatabaseUrl } from '../db/database-url.ts';
import { isConnectionFailure } from '../errors/classify-error.ts';
import { codedBoom } from '../errors/coded-boom.ts';
import { DomainError } from '../errors/domain-error.ts';

export interface DatabasePluginOptions {
  readonly config: Config;
}

interface RunOptions {
  /**
   * Whether `work` may run twice: then a failure on a dead connection runs it once more, on another.
   * Default: only for GET and HEAD requests. Pass false for work that writes inside a read request.
   */
  readonly retryOnDeadConnection?: boolean;
}

export interface DatabaseApi {
  /** The shared ORM, created on first use. */
  getOrm(): Promise<MikroORM>;
  /** Closes the shared ORM and its pool; the next use creates it again (and resolves the secret again). */
  close(): Promise<void>;
  /**
   * Runs `work` with this request's EntityManager fork (one per request, made on first use) once the
   * connection gate gives it a place, which it holds only while `work` runs: a request waiting for its
   * body, or answered early by the route timeout or a client that left, holds none, and its work in flight
   * keeps its own. Each wait ends DATABASE_QUEUE_TIMEOUT_MS after the request's arrival with a 503
   * OVERLOADED. Work is not started for a request that is no longer active. Never nest: nested work would
   * wait for a second place.
   */
  run<T>(
    request: Pick<Request, 'app' | 'info' | 'active' | 'method'>,
    work: (em: EntityManager) => Promise<T>,
    options?: RunOptions,
  ): Promise<T>;
}

/** pg's client-side query timeout: the connection may be dead (a server-side timeout says it is not). */
const QUERY_READ_TIMEOUT = /Query read timeout/;

/** The connection died under the work (it is destroyed, never handed out again: db/connection-health.ts). */
function onDeadConnection(error: unknown): boolean {
  // No connection died: the pool's were all busy, and would be for another try too.
  if (isPoolWaitTimeout(error)) return false;
  if (isConnectionFailure(error)) return true;
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (QUERY_READ_TIMEOUT.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

/** Reached on the shared EntityManager: a fork would give the same driver, connection and metadata. */
const SHARED_METHODS = new Set<PropertyKey>(['getConnection', 'getDriver', 'getPlatform', 'getMetadata']);

/**
 * The request's EntityManager fork, made on first use: work that only runs SQL (the API key lookup, a
 * read that maps no entity) pays for no identity map. Each call gives its own fork; nothing is shared.
 */
function lazyFork(shared: EntityManager): EntityManager {
  let fork: EntityManager | undefined;
  const methods = new Map<PropertyKey, unknown>();
  // The prototype keeps `instanceof EntityManager`; every field and method is the fork's.
  return new Proxy(Object.create(Object.getPrototypeOf(shared) as object) as EntityManager, {
    get(_target, key) {
      const owner = SHARED_METHODS.has(key) ? shared : (fork ??= shared.fork());
      const value: unknown = Reflect.get(owner, key, owner);
      if (typeof value !== 'function') return value;
      // Bound: MikroORM's methods read their EntityManager's private fields.
      let method = methods.get(key);
      if (method === undefined) {
        method = (value as (...args: unknown[]) => unknown).bind(owner);
        methods.set(key, method);
      }
      return method;
    },
    set(_target, key, value) {
      fork ??= shared.fork();
      return Reflect.set(fork, key, value, fork);
    },
    has(_target, key) {
      fork ??= shared.fork();
      return Reflect.has(fork, key);
    },
  });
}

export const databasePlugin: Plugin<DatabasePluginOptions> = {
  name: 'database',
  register(server, { config }) {
    let pending: Promise<MikroORM> | undefined;
    let orm: MikroORM | undefined;
    const gate = new ConnectionGate(config.database.poolMax);
    const getOrm = (): Promise<MikroORM> => {
      pending ??= (async () => {
        const [{ createOrm }, url] = await Promise.all([
          import('../db/orm.ts'),
          resolveDatabaseUrl(config.database),
        ]);
        // Outside Lambda one connection beyond the gate's places, for readiness probes and event jobs.
        const poolMax = poolSize(config.database.poolMax, config.inLambda);
        const created = await createOrm({ ...config.database, poolMax, url });
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
        // A database with no connection slot left is busy, not down: a warning, and the request is shed.
        if (isOutOfConnectionSlots(error)) {
          server.logger.warn({ err: logged, tags: ['database'] }, 'database has no connection slot left');
        } else server.log(['error', 'database'], logged);
        // The cause lets callers tell a transient failure (retry) from a bad certificate or password.
        throw new DomainError('DATABASE_UNAVAILABLE', undefined, { cause: logged });
      });
      return pending;
    };

    const close = async (): Promise<void> => {
      const current = orm;
      orm = undefined;
      pending = undefined;
      await current?.close();
    };

    const api: DatabaseApi = {
      getOrm,
      close,
      async run(request, work, options = {}) {
        const release = await gate
          .acquire(request.info.received + config.database.queueTimeoutMs)
          // The gate rejects only when the deadline passed: an OverloadError.
          .catch(() => {
            throw codedBoom('OVERLOADED', { 'retry-after': String(OVERLOAD_RETRY_AFTER_SECONDS) });
          });
        try {
          // The client left or the route timed out while this waited: nobody reads the answer.
          if (!request.active()) throw codedBoom('OVERLOADED');
          const shared = await getOrm();
          request.app.em ??= lazyFork(shared.em);
          try {
            return await work(request.app.em);
          } catch (error) {
            const retry =
              options.retryOnDeadConnection ?? (request.method === 'get' || request.method === 'head');
            if (!retry || !onDeadConnection(error) || !request.active()) throw error;
            // Once, on a fresh fork: the failed attempt's identity map may hold half of what it read.
            request.app.em = lazyFork(shared.em);
            return await work(request.app.em);
          }
        } catch (error) {
          // No connection slot in PostgreSQL, or none free in the pool: overload, worth a retry, not an outage.
          if (isOutOfConnectionSlots(error) || isPoolWaitTimeout(error)) {
            throw codedBoom('OVERLOADED', { 'retry-after': String(OVERLOAD_RETRY_AFTER_SECONDS) });
          }
          throw error;
        } finally {
          release();
        }
      },
    };
    server.expose(api);

    server.ext('onPostStop', close);
  },
};

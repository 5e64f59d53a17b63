// Keeps dead database connections out of use: one whose query timed out or broke it is destroyed, one idle
// for a while is checked before it is handed out again (docs/database.md, "Dead connections").
import { connect as connectSocket } from 'node:net';
import pg, { type Pool, type PoolClient, type QueryConfig } from 'pg';

export interface ConnectionHealthOptions {
  /** A connection idle at least this long is checked (`select 1`) before use. */
  readonly idleCheckAfterMs: number;
  /** How long that check may take before the connection counts as dead. */
  readonly idleCheckTimeoutMs: number;
}

/** pg's Pool as far as it is wrapped here (Kysely calls `connect()` without a callback). */
interface ConnectingPool {
  connect: (...args: unknown[]) => unknown;
}

/**
 * Whether a failed query leaves its connection unusable or in doubt: anything but an SQL error from a live
 * session. pg's read timeout resolves the caller but keeps the query on the wire (what is sent next would
 * queue behind it, maybe on a dead socket); a FATAL error is followed by the server closing the socket,
 * which pg may not have read yet when the connection is given back.
 */
function breaksConnection(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError)) return true;
  const { severity, code = '' } = error;
  return severity === 'FATAL' || severity === 'PANIC' || code.startsWith('08') || code.startsWith('57P');
}

/** PostgreSQL's CancelRequest code (protocol 3: length, code, backend pid, secret key). */
const CANCEL_REQUEST_CODE = 80_877_102;

/**
 * Asks PostgreSQL to cancel what `client`'s backend still runs after pg gave up on it: closing the socket
 * alone leaves the backend running (holding a slot) until its query ends. Fire and forget, bounded; no
 * slot is taken. Without a backend key (RDS Proxy sends none) nothing is sent.
 */
function cancelBackend(client: PoolClient, boundMs: number): void {
  const { processID, secretKey, host, port } = client as unknown as {
    processID: unknown;
    secretKey: unknown;
    host: string;
    port: number;
  };
  if (typeof processID !== 'number' || typeof secretKey !== 'number') return;
  const request = Buffer.alloc(16);
  request.writeInt32BE(16, 0);
  request.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  request.writeInt32BE(processID, 8);
  request.writeInt32BE(secretKey, 12);
  const socket = host.startsWith('/')
    ? connectSocket(`${host}/.s.PGSQL.${String(port)}`)
    : connectSocket(port, host);
  socket.on('connect', () => socket.end(request));
  socket.on('error', () => undefined);
  socket.setTimeout(boundMs, () => socket.destroy());
}

/** pg's client-side bound: the query may still run on a live backend. */
const isReadTimeout = (error: unknown) => error instanceof Error && error.message === 'Query read timeout';

/** Marks a connection dead: pg-pool destroys a client released with an error. */
class DeadConnectionError extends Error {
  override readonly name = 'DeadConnectionError';
}

/** Watches `pool` (MikroORM's `onPoolCreated` hands it over before any connection is made). */
export function guardPool(pool: Pool, options: ConnectionHealthOptions): void {
  const releasedAt = new WeakMap<PoolClient, number>();
  // Connections given back before the last dead one was found are suspects, however briefly idle:
  // whatever killed one (a failover, a NAT, a thaw) most likely killed its siblings too.
  let suspectBefore = 0;

  // The release of each connection handed out by healthyClient, callable more than once.
  const releases = new WeakMap<PoolClient, (error?: Error) => void>();
  // The idle checks' queries: a `select 1` outliving its bound says the path is dead.
  const checks = new WeakSet<object>();

  pool.on('connect', (client) => {
    // pg emits 'error' on a client whose connection died (reset, terminated, closed by the server).
    client.on('error', () => {
      suspectBefore = Date.now();
    });
    // A query failure that breaks the connection gives it back at once, as dead, before its holder
    // reacts: Kysely never releases a transaction whose rollback failed, which would leak it for good.
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: typeof query }).query = (...args) => {
      const result = query(...args);
      if (result instanceof Promise) {
        result.catch((error: unknown) => {
          if (!breaksConnection(error)) return;
          // Work outliving its bound may just be slow: that alone says nothing about the siblings.
          const slow = isReadTimeout(error) && !checks.has(args[0] as object);
          if (!slow) suspectBefore = Date.now();
          if (isReadTimeout(error)) cancelBackend(client, options.idleCheckTimeoutMs);
          // A client taken with a callback (pg-pool's own query()) is released with the error by its holder.
          releases.get(client)?.(new DeadConnectionError('its query failed', { cause: error }));
        });
      }
      return result;
    };
  });
  pool.on('release', (_error, client) => {
    // Wall-clock time: a thawed instance's monotonic clock may not count the time it was frozen.
    releasedAt.set(client, Date.now());
  });

  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  const checkedOut = async (): Promise<PoolClient> => {
    const client = (await connect()) as PoolClient;
    const release = client.release.bind(client);
    let released = false;
    const releaseOnce = (error?: Error | boolean) => {
      if (released) return;
      released = true;
      releases.delete(client);
      release(error);
    };
    client.release = releaseOnce;
    releases.set(client, releaseOnce);
    return client;
  };
  const healthyClient = async (): Promise<PoolClient> => {
    // Each failed round removes a connection from the pool; a new one is never checked: bounded.
    for (let round = 0; ; round++) {
      const client = await checkedOut();
      const given = releasedAt.get(client);
      if (given === undefined || round > pool.options.max) return client;
      if (given <= suspectBefore) {
        client.release(new DeadConnectionError('a sibling connection was found dead'));
        continue;
      }
      // Negative after the clock stepped back: how long it idled is unknown, so it is checked.
      const idle = Date.now() - given;
      if (idle >= 0 && idle < options.idleCheckAfterMs) return client;
      try {
        const check: QueryConfig & { query_timeout: number } = {
          text: 'select 1',
          query_timeout: options.idleCheckTimeoutMs,
        };
        checks.add(check);
        await client.query(check);
        return client;
      } catch (error) {
        client.release(new DeadConnectionError('an idle connection failed its check', { cause: error }));
      }
    }
  };
  (pool as unknown as ConnectingPool).connect = (...args: unknown[]) =>
    args.length > 0 ? connect(...args) : healthyClient();
}

/** `config` with guardPool run on its pool, after any `onPoolCreated` it already has. */
export function withConnectionHealth<T extends { driverOptions?: unknown }>(
  config: T,
  options: ConnectionHealthOptions,
): T {
  const driverOptions = (config.driverOptions ?? {}) as { onPoolCreated?: (pool: Pool) => unknown };
  const previous = driverOptions.onPoolCreated;
  return {
    ...config,
    driverOptions: {
      ...driverOptions,
      onPoolCreated(pool: Pool) {
        previous?.(pool);
        guardPool(pool, options);
      },
    },
  };
}

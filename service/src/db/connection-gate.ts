// Admits database work: as many pieces at once as the pool has connections, the rest wait in arrival order
// until their deadline and are then shed, so the pool's own timeout means a slow database, never "busy".

/** What an overloaded instance asks a client to wait before trying again. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/**
 * Connections an instance's pool may open for a gate of `places`. Outside Lambda one more, so readiness
 * probes and event jobs never wait behind requests; inside Lambda an instance serves one invocation at a
 * time (readiness and events arrive as invocations too), so they share it (docs/database.md).
 */
export function poolSize(places: number, inLambda: boolean): number {
  return inLambda ? places : places + 1;
}

/** PostgreSQL's too_many_connections: the database has no connection slot left for this instance. */
const TOO_MANY_CONNECTIONS = '53300';

/** True when `error` (or a cause a few levels down) is PostgreSQL refusing a connection for lack of slots. */
export function isOutOfConnectionSlots(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === TOO_MANY_CONNECTIONS) return true;
    current = current.cause;
  }
  return false;
}

/**
 * pg-pool's wait for one of its own connections ran out: all were in use (work outside the gate, such as a
 * readiness check left running), so this instance is busy; a slow connect fails with another message.
 */
export function isPoolWaitTimeout(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (current.message === 'timeout exceeded when trying to connect') return true;
    current = current.cause;
  }
  return false;
}

/** A request that could not get a connection within its time budget: the instance is overloaded. */
export class OverloadError extends Error {
  override readonly name = 'OverloadError';
}

interface Waiter {
  readonly admit: (release: () => void) => void;
  readonly timer: NodeJS.Timeout;
}

export class ConnectionGate {
  #free: number;
  /** Insertion-ordered: the first waiter is the oldest. */
  readonly #waiting = new Set<Waiter>();

  constructor(slots: number) {
    this.#free = slots;
  }

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.#waiting.size;
  }

  /** Resolves with a release function (safe to call twice) once admitted; rejects at `deadline` (epoch ms). */
  acquire(deadline: number): Promise<() => void> {
    if (this.#free > 0 && this.#waiting.size === 0) {
      this.#free -= 1;
      return Promise.resolve(this.#releaser());
    }
    const wait = deadline - Date.now();
    if (wait <= 0)
      return Promise.reject(new OverloadError('No database connection free, and no time left to wait'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        admit: resolve,
        timer: setTimeout(() => {
          this.#waiting.delete(waiter);
          reject(new OverloadError(`No database connection became free within ${wait} ms`));
        }, wait),
      };
      this.#waiting.add(waiter);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.values().next();
      if (next.done === true) {
        this.#free += 1;
        return;
      }
      // The slot passes straight to the oldest waiter: no newcomer can overtake the queue.
      this.#waiting.delete(next.value);
      clearTimeout(next.value.timer);
      next.value.admit(this.#releaser());
    };
  }
}

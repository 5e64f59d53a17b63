// What pino and hapi-pino call while writing a line runs inside hapi's event emitter, where an exception
// ends the process: each such function is wrapped so that it degrades to a fallback instead.

export function neverThrows<A extends unknown[], R>(fn: (...args: A) => R, fallback: R): (...args: A) => R {
  return function (this: unknown, ...args: A): R {
    try {
      return fn.apply(this, args);
    } catch {
      return fallback;
    }
  };
}

export function withNoThrowingFunctions<T extends object>(functions: T, fallback: unknown): T {
  const guarded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(functions)) {
    guarded[key] =
      typeof value === 'function' ? neverThrows(value as (...args: unknown[]) => unknown, fallback) : value;
  }
  return guarded as T;
}

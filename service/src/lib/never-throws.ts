// pino callbacks run inside hapi's emitter, where a throw ends the process: they degrade instead.

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

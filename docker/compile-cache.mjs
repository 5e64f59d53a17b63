// Preloaded by starts without the snapshot: offers the baked compile cache, never failing a start.
// docs/container.md#the-baked-compile-cache-starts-without-the-snapshot
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
          // A second process in the same container.
        }
      }
    }
  }
} catch {
  // Start without the baked cache.
}

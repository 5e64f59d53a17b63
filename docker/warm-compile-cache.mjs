// Dockerfile step: compiles the bundle into Node's cache; a missing export stops it before it runs.
// Usage: node warm-compile-cache.mjs <bundle.mjs> <cache dir>
import { chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { constants, enableCompileCache, flushCompileCache } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, cacheDir] = process.argv.slice(2);
if (entry === undefined || cacheDir === undefined) {
  throw new Error('usage: node warm-compile-cache.mjs <bundle.mjs> <cache dir>');
}

const { status, message } = enableCompileCache(cacheDir);
if (status !== constants.compileCacheStatus.ENABLED) {
  throw new Error(`Node's compile cache could not be enabled (status ${status}): ${message ?? ''}`);
}

// The chunks too: the first database request must not pay for compiling the ORM.
const chunkDir = join(dirname(resolve(entry)), 'chunks');
const chunks = existsSync(chunkDir)
  ? readdirSync(chunkDir)
      .filter((name) => name.endsWith('.mjs'))
      .map((name) => join(chunkDir, name))
  : [];
const probe = [
  ...[resolve(entry), ...chunks].map((file) => `import ${JSON.stringify(pathToFileURL(file).href)};`),
  `import { linkStopsHereOnPurpose } from 'node:module';`,
].join('\n');
try {
  await import(`data:text/javascript,${encodeURIComponent(probe)}`);
  throw new Error('the probe module linked, so the bundle ran; expected a link error');
} catch (error) {
  // Anything but the intended link error fails the build.
  if (!(error instanceof SyntaxError && error.message.includes('linkStopsHereOnPurpose'))) throw error;
}
flushCompileCache();

const files = [];
for (const folder of readdirSync(cacheDir)) {
  for (const name of readdirSync(join(cacheDir, folder))) {
    const path = join(cacheDir, folder, name);
    chmodSync(path, 0o444);
    files.push({ path, bytes: statSync(path).size });
  }
  chmodSync(join(cacheDir, folder), 0o555);
}
chmodSync(cacheDir, 0o555);

// The bundle's entry is by far the largest; a cache without it would silently do nothing.
const bundleBytes = statSync(entry).size;
if (!files.some(({ bytes }) => bytes * 50 >= bundleBytes)) {
  throw new Error(`no compile cache entry for ${entry}: ${JSON.stringify(files)}`);
}
for (const { path, bytes } of files) console.log(`compile cache: ${path} (${bytes} bytes)`);

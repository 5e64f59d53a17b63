// `npm run build`: two self-contained bundles in dist/, main.mjs and the snapshot's.
// Why two: docs/container.md#cold-start-the-startup-snapshot
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type OnResolveArgs, type Plugin, type PluginBuild } from 'esbuild';
import { commonBuildOptions, esmBundleOptions, withoutSwaggerUiAssets } from '../tools/bundle-options.ts';
import { SNAPSHOT_CONFIG } from '../tools/snapshot-build-args.ts';

const serviceDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// BUILD_OUT_DIR: tests that build at the same time as others; SOURCEMAP=1 also writes the .map files.
const outdir = path.resolve(process.env.BUILD_OUT_DIR ?? path.join(serviceDir, 'dist'));
const outfile = path.join(outdir, 'main.mjs');
const sourcemap = process.env.SOURCEMAP === '1';

const common = await commonBuildOptions(sourcemap);

await rm(outdir, { recursive: true, force: true });
const result = await build({
  ...common,
  ...esmBundleOptions(outdir),
  entryPoints: [path.join(serviceDir, 'src/index.ts')],
  entryNames: 'main',
  metafile: true,
});

// ---- the startup snapshot's entry ------------------------------------------------------------------
// Node 24 aborts `--build-snapshot` when one of these loads.
const refusedBySnapshot = /^(node:)?(http|https|http2|tls|_http_\w+|_tls_\w+)$/;

// Start-up modules whose static imports never reach a refused one: evaluated while the snapshot builds.
function snapshotSafeModules(metafile: Metafile, from: string): { loaded: string[]; safe: string[] } {
  const { inputs } = metafile;
  const staticImports = (file: string) =>
    (inputs[file]?.imports ?? []).filter((edge) => edge.kind !== 'dynamic-import');
  const refused = new Map<string, boolean>();
  const reachesRefused = (file: string): boolean => {
    const known = refused.get(file);
    if (known !== undefined) return known;
    refused.set(file, false); // an import cycle alone proves nothing
    const result = staticImports(file).some((edge) =>
      edge.external === true ? refusedBySnapshot.test(edge.path) : reachesRefused(edge.path),
    );
    refused.set(file, result);
    return result;
  };
  const loaded = new Set<string>();
  const visit = (file: string) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const edge of staticImports(file)) if (edge.external !== true) visit(edge.path);
  };
  visit(from);
  const files = [...loaded].filter((file) => !file.includes(':'));
  // JSON files are data their importers pull in; a side-effect import of one is dropped anyway.
  return {
    loaded: files,
    safe: files.filter((file) => !reachesRefused(file) && !file.endsWith('.json')),
  };
}

// The 'resolving' mark keeps the calling hook from recursing.
function resolveOnDisk(builder: PluginBuild, args: OnResolveArgs) {
  return builder.resolve(args.path, {
    kind: args.kind,
    importer: args.importer,
    resolveDir: args.resolveDir,
    namespace: 'file',
    pluginData: 'resolving',
  });
}

const startup = snapshotSafeModules(
  result.metafile,
  path.relative(process.cwd(), path.join(serviceDir, 'src/main.ts')),
);
const preloaded = startup.safe;
// The snapshot lends these to snapshot-lazy.cjs.
const shared = new Map(startup.loaded.map((file, index) => [path.resolve(file), index]));
const REGISTRY = "Symbol.for('service.snapshot.modules')";
const lazyFile = path.join(outdir, 'snapshot-lazy.cjs');
// Dynamic imports (the ORM, the AWS SDK): loaded from snapshot-lazy.cjs.
const lazy = new Set<string>();
// A path, not a counter: resolve callbacks run concurrently.
const lazyKey = (file: string) => JSON.stringify(path.relative(serviceDir, file).split(path.sep).join('/'));
const snapshotEntry = path.join(serviceDir, 'src/snapshot.ts');
const toLazyFile: Plugin = {
  name: 'dynamic-imports-to-snapshot-lazy',
  setup(builder) {
    builder.onResolve({ filter: /.*/ }, async (args) => {
      if (
        args.kind !== 'dynamic-import' ||
        args.importer === snapshotEntry ||
        args.namespace === 'lazy' ||
        args.pluginData === 'resolving'
      ) {
        return undefined;
      }
      const resolved = await resolveOnDisk(builder, args);
      if (resolved.errors.length > 0 || resolved.external) return undefined;
      lazy.add(resolved.path);
      return { path: resolved.path, namespace: 'lazy' };
    });
    builder.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
      // Read from disk when first imported, beside this file (the image's /app).
      contents: `module.exports = require('node:module').createRequire(__filename)('./snapshot-lazy.cjs').modules[${lazyKey(args.path)}]();`,
      loader: 'js',
    }));
  },
};
const snapshotFile = path.join(outdir, 'snapshot.cjs');
await build({
  ...common,
  stdin: {
    contents: [
      ...preloaded.map((file) => `import ${JSON.stringify(path.resolve(file))};`),
      `const lent = (globalThis[${REGISTRY}] = []);`,
      ...[...shared].map(
        ([file, index]) =>
          `Object.defineProperty(lent, ${String(index)}, { get: () => require(${JSON.stringify(file)}) });`,
      ),
      "import './snapshot.ts';",
    ].join('\n'),
    resolveDir: path.join(serviceDir, 'src'),
    sourcefile: 'snapshot-entry.ts',
    loader: 'ts',
  },
  outfile: snapshotFile,
  format: 'cjs',
  plugins: [withoutSwaggerUiAssets, toLazyFile],
});
// Sharing start-up modules with the snapshot keeps instanceof working across the two files.
// One ES module per dynamic import, code shared between them in chunks: the first database request
// compiles the ORM stack only, not the AWS SDK or the docs. snapshot-lazy.cjs maps each to its file.
const lazyDir = path.join(outdir, 'snapshot-lazy');
const lazyEntries = [...lazy].sort().map((file) => ({
  file,
  name: path
    .relative(serviceDir, file)
    .replace(/^(\.\.[/\\])*(node_modules|src)[/\\]/, '')
    .replace(/\.[cm]?[jt]s$/, '')
    .replace(/[^\w.-]+/g, '-')
    .replace(/^-+/, ''),
}));
const lazyBuild = await build({
  ...common,
  ...esmBundleOptions(lazyDir),
  entryPoints: lazyEntries.map(({ file, name }) => ({ in: file, out: name })),
  metafile: true,
  plugins: [
    withoutSwaggerUiAssets,
    {
      name: 'start-up-modules-from-the-snapshot',
      setup(builder) {
        builder.onResolve({ filter: /.*/ }, async (args) => {
          if (args.pluginData === 'resolving' || args.namespace === 'lent' || args.kind === 'entry-point') {
            return undefined;
          }
          const resolved = await resolveOnDisk(builder, args);
          const index = shared.get(resolved.path);
          return index === undefined ? undefined : { path: String(index), namespace: 'lent' };
        });
        builder.onLoad({ filter: /.*/, namespace: 'lent' }, (args) => ({
          contents: `module.exports = globalThis[${REGISTRY}][${args.path}];`,
          loader: 'js',
        }));
      },
    },
  ],
});
// A CommonJS package's module.exports is the default export of its ES entry.
const commonJsEntries = new Set(
  Object.values(lazyBuild.metafile.outputs).flatMap(({ entryPoint }) =>
    entryPoint !== undefined && lazyBuild.metafile.inputs[entryPoint]?.format === 'cjs'
      ? [path.resolve(entryPoint)]
      : [],
  ),
);
// Node 24 loads an ES module without top-level await through require(), synchronously.
await writeFile(
  lazyFile,
  `module.exports.modules = { ${lazyEntries
    .map(
      ({ file, name }) =>
        `${lazyKey(file)}: () => require('./snapshot-lazy/${name}.mjs')${commonJsEntries.has(file) ? '.default' : ''}`,
    )
    .join(', ')} };\n`,
);
await writeFile(path.join(outdir, 'snapshot.json'), `${JSON.stringify(SNAPSHOT_CONFIG)}\n`);

const { size } = await stat(outfile);
const inputs = Object.keys(result.metafile.inputs).length;
const outputs = Object.values(result.metafile.outputs);
const total = outputs.reduce((sum, output) => sum + output.bytes, 0);
const snapshotBytes = (await stat(snapshotFile)).size;
console.log(
  `Built ${path.relative(process.cwd(), outfile)} and ${outputs.length - 1} chunks: ` +
    `${(size / 1024 / 1024).toFixed(2)} MiB entry, ${(total / 1024 / 1024).toFixed(2)} MiB in all, from ${inputs} modules; ` +
    `${path.relative(process.cwd(), snapshotFile)} (${(snapshotBytes / 1024 / 1024).toFixed(2)} MiB, ${preloaded.length} modules evaluated in the snapshot)`,
);

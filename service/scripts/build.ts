// `npm run build`: bundles the service into one self-contained ES module, dist/main.mjs, that runs
// with no node_modules beside it (the container image ships only this file).
// SOURCEMAP=1 also writes dist/main.mjs.map.
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/** swagger-ui-dist's entry evaluates browser code on import; hapi-swagger only needs its asset path. */
const withoutSwaggerUiAssets: Plugin = {
  name: 'without-swagger-ui-assets',
  setup(builder) {
    builder.onResolve({ filter: /^swagger-ui-dist$/ }, () => ({
      path: 'swagger-ui-dist',
      namespace: 'stub',
    }));
    builder.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'module.exports = { getAbsoluteFSPath: () => __dirname };',
      loader: 'js',
    }));
  },
};

const serviceDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(serviceDir, 'dist/main.mjs');
const sourcemap = process.env.SOURCEMAP === '1';

await rm(path.join(serviceDir, 'dist'), { recursive: true, force: true });
const result = await build({
  entryPoints: [path.join(serviceDir, 'src/index.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  // MikroORM recognises its Migrator extension and entities by class name.
  keepNames: true,
  sourcemap,
  legalComments: 'none',
  metafile: true,
  // Optional native or development-only modules that the code never loads in production.
  external: ['pg-native', 'pino-pretty'],
  // The bundle serves the OpenAPI document but not Swagger UI (its browser assets are not shipped).
  define: { __BUNDLED__: 'true' },
  plugins: [withoutSwaggerUiAssets],
  // Bundled CommonJS dependencies still call require() and read __dirname.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { dirname as __pathDirname } from 'node:path';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __pathDirname(__filename);',
    ].join(' '),
  },
  logLevel: 'warning',
});

const { size } = await stat(outfile);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(
  `Built ${path.relative(process.cwd(), outfile)}: ${(size / 1024 / 1024).toFixed(2)} MiB from ${inputs} modules`,
);

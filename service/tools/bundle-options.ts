// The esbuild options every bundle of the service shares: scripts/build.ts's and the adapter bench's
// in-process variant, which must differ from main.mjs only in their entry.
import type { BuildOptions, Plugin } from 'esbuild';
import { generateOpenApiDocument } from './openapi-document.ts';

// swagger-ui-dist evaluates browser code on import; hapi-swagger only needs its asset path.
export const withoutSwaggerUiAssets: Plugin = {
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

/** What every bundle is built with. */
export async function commonBuildOptions(sourcemap: boolean): Promise<BuildOptions> {
  return {
    bundle: true,
    platform: 'node',
    target: 'node24',
    minify: true,
    // MikroORM recognises entities by class name (the bundle tests find classes by it too).
    keepNames: true,
    sourcemap,
    legalComments: 'none',
    // Never loaded in production.
    external: ['pg-native', 'pino-pretty'],
    // hapi uses only the part of its validator's API that joi has; the bundle tests prove it.
    alias: { '@hapi/validate': 'joi' },
    // The bundle serves the OpenAPI document generated here, so hapi-swagger and Swagger UI never load.
    define: {
      'globalThis.__SERVICE_OPENAPI_DOCUMENT__': JSON.stringify(
        JSON.stringify(await generateOpenApiDocument()),
      ),
    },
    plugins: [withoutSwaggerUiAssets],
    logLevel: 'warning',
  };
}

// Bundled CommonJS dependencies still call require() and read __dirname (every ES chunk gets this).
const esmBanner = {
  js: [
    "import { createRequire as __createRequire } from 'node:module';",
    "import { dirname as __pathDirname } from 'node:path';",
    "import { fileURLToPath as __fileURLToPath } from 'node:url';",
    'const require = __createRequire(import.meta.url);',
    'const __filename = __fileURLToPath(import.meta.url);',
    'const __dirname = __pathDirname(__filename);',
  ].join(' '),
};

/** ES modules in `outdir`, code shared between entries in chunks (main.mjs and the lazy files). */
export function esmBundleOptions(outdir: string): BuildOptions {
  return {
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    splitting: true,
    format: 'esm',
    banner: esmBanner,
  };
}

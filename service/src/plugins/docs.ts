// OpenAPI spec (/openapi.json) and Swagger UI (/docs), generated from the routes' joi schemas.
import Inert from '@hapi/inert';
import Vision from '@hapi/vision';
import type { Plugin, RouteDefMethods } from '@hapi/hapi';
import HapiSwagger from 'hapi-swagger';
import type { Config } from '../config.ts';

/** Set by the bundler: the bundle carries no Swagger UI assets, so it serves only the document. */
declare const __BUNDLED__: boolean | undefined;

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

/** OpenAPI security schemes: the key in x-api-key, or as `Authorization: Bearer <key>`. */
export const SECURITY_DEFINITIONS = {
  apiKey: {
    type: 'apiKey',
    name: 'x-api-key',
    in: 'header',
    description: 'An API key (ak_…); create one with `npm run keys:create -- --name <name>`',
  },
  bearer: {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    description: 'The same key as `Bearer ak_…` (Swagger 2 has no bearer type: type the word Bearer)',
  },
} as const;
export const SECURITY_REQUIREMENT = [{ apiKey: [] }, { bearer: [] }];

interface OperationsDocument {
  paths?: Record<string, Record<string, { security?: unknown }>>;
}

export const docsPlugin: Plugin<{ config: Config }> = {
  name: 'docs',
  async register(server, { config }) {
    const options: HapiSwagger.RegisterOptions = {
      info: {
        title: 'Books API',
        version: config.version,
        description: 'A plain hapi service, run on AWS Lambda through the Lambda Web Adapter.',
      },
      jsonPath: OPENAPI_PATH,
      documentationPath: DOCS_PATH,
      ...(typeof __BUNDLED__ === 'undefined' ? {} : { documentationPage: false, swaggerUI: false }),
      grouping: 'tags',
      securityDefinitions: SECURITY_DEFINITIONS,
      tags: [
        { name: 'books', description: 'The example domain module' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    };
    await server.register([Inert, Vision, { plugin: HapiSwagger, options }]);

    // Every operation whose route does not opt out of auth (`auth: false`) needs a key wherever keys are
    // required, so the document is the same in every environment and Swagger UI offers "Authorize".
    server.ext('onPreResponse', (request, h) => {
      const { response } = request;
      if (request.path !== OPENAPI_PATH || ('isBoom' in response && response.isBoom)) return h.continue;
      if (!('source' in response) || typeof response.source !== 'object' || response.source === null) {
        return h.continue;
      }
      const document = structuredClone(response.source) as OperationsDocument;
      for (const [path, operations] of Object.entries(document.paths ?? {})) {
        for (const [method, operation] of Object.entries(operations)) {
          const route = server.match(method.toUpperCase() as RouteDefMethods, path);
          const optedOut = (route?.settings.auth as unknown) === false;
          if (route !== null && !optedOut) operation.security = SECURITY_REQUIREMENT;
        }
      }
      return h.response(document).code(response.statusCode);
    });
  },
};

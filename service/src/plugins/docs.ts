// OpenAPI spec (/openapi.json) and Swagger UI (/docs), generated from the routes' joi schemas.
import Inert from '@hapi/inert';
import Vision from '@hapi/vision';
import type { Plugin } from '@hapi/hapi';
import HapiSwagger from 'hapi-swagger';
import type { Config } from '../config.ts';

/** Set by the bundler: the bundle carries no Swagger UI assets, so it serves only the document. */
declare const __BUNDLED__: boolean | undefined;

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

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
      tags: [
        { name: 'books', description: 'The example domain module' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    };
    await server.register([Inert, Vision, { plugin: HapiSwagger, options }]);
  },
};

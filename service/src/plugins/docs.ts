// /openapi.json and Swagger UI (/docs); the bundle serves the document baked at build time.
import type { Plugin, ResponseObject, RouteDefMethods } from '@hapi/hapi';
import type HapiSwagger from 'hapi-swagger';
import type { Config } from '../config.ts';
import { domainModules } from '../modules/index.ts';
import { completeOpenApiDocument } from './openapi-completion.ts';

declare global {
  // esbuild `define`: the baked OpenAPI document as JSON text.
  var __SERVICE_OPENAPI_DOCUMENT__: string | undefined;
}

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';
const SWAGGER_UI_PATH = '/swaggerui/';
const DOCS_SCRIPT_PATH = `${SWAGGER_UI_PATH}docs-init.js`;

// The page asks for API keys: own origin only; Swagger UI needs inline styles and data: icons.
const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

// No inline script: the policy forbids it.
const DOCS_PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>Books API</title>
    <link rel="stylesheet" type="text/css" href="${SWAGGER_UI_PATH}swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${SWAGGER_UI_PATH}swagger-ui-bundle.js"></script>
    <script src="${DOCS_SCRIPT_PATH}"></script>
  </body>
</html>
`;

// This service's document only: no ?url=/?configUrl=, no top bar, no third-party validator.
const DOCS_SCRIPT = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '${OPENAPI_PATH}',
    queryConfigEnabled: false,
    validatorUrl: null,
    dom_id: '#swagger-ui',
    deepLinking: true,
    layout: 'BaseLayout',
    docExpansion: 'list',
  });
};
`;

const SECURITY_DEFINITIONS = {
  apiKey: {
    type: 'apiKey',
    name: 'x-api-key',
    in: 'header',
    description: 'An API key (ak_…); create one with `npm run keys:create -- --name <name>`',
  },
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'The same key as `Authorization: Bearer ak_…`',
  },
} as const;
const SECURITY_REQUIREMENT = [{ apiKey: [] }, { bearer: [] }];

export const docsPlugin: Plugin<{ config: Config }> = {
  name: 'docs',
  async register(server, { config }) {
    const prebuilt = globalThis.__SERVICE_OPENAPI_DOCUMENT__;
    if (prebuilt !== undefined) {
      const document = JSON.parse(prebuilt) as unknown;
      server.route({ method: 'GET', path: OPENAPI_PATH, options: { auth: false, handler: () => document } });
      return;
    }

    const [{ default: Inert }, { default: Vision }, { default: HapiSwagger }] = await Promise.all([
      import('@hapi/inert'),
      import('@hapi/vision'),
      import('hapi-swagger'),
    ]);
    const options: HapiSwagger.RegisterOptions = {
      info: {
        title: 'Books API',
        version: config.version,
        description: 'A plain hapi service, run on AWS Lambda through the Lambda Web Adapter.',
      },
      // Its schema wants an absolute server URL: a placeholder (never the Host), made relative later.
      OAS: 'v3.0',
      servers: [{ url: 'http://localhost' }],
      jsonPath: OPENAPI_PATH,
      // hapi-swagger's page loads whatever document its ?url= names.
      documentationPage: false,
      swaggerUIPath: SWAGGER_UI_PATH,
      grouping: 'tags',
      securityDefinitions: SECURITY_DEFINITIONS,
      tags: [
        ...domainModules.flatMap((module) => module.openApiTag ?? []),
        { name: 'health', description: 'Liveness and readiness' },
      ],
    };
    await server.register([Inert, Vision, { plugin: HapiSwagger, options }]);
    server.route([
      {
        method: 'GET',
        path: DOCS_PATH,
        options: { auth: false, handler: (_request, h) => h.response(DOCS_PAGE).type('text/html') },
      },
      {
        method: 'GET',
        path: DOCS_SCRIPT_PATH,
        options: {
          auth: false,
          handler: (_request, h) => h.response(DOCS_SCRIPT).type('text/javascript'),
        },
      },
    ]);

    // Documented as keyed in every environment, so Swagger UI always offers "Authorize".
    server.ext('onPreResponse', (request, h) => {
      const { response } = request;
      // Every Swagger UI file too: swagger-ui-dist's own index.html runs an inline script.
      if (request.path === DOCS_PATH || request.path.startsWith(SWAGGER_UI_PATH)) {
        (response as ResponseObject).header('content-security-policy', DOCS_CONTENT_SECURITY_POLICY);
        return h.continue;
      }
      if (request.path !== OPENAPI_PATH || ('isBoom' in response && response.isBoom)) return h.continue;
      // A refused request already carries the envelope.
      if (!('source' in response) || response.statusCode !== 200) return h.continue;
      if (typeof response.source !== 'object' || response.source === null) return h.continue;
      const document = completeOpenApiDocument(response.source, {
        route: (method, path) => server.match(method.toUpperCase() as RouteDefMethods, path),
        keyed: (route) => (route.settings.auth as unknown) !== false,
        security: SECURITY_REQUIREMENT,
        modules: domainModules,
      });
      return h.response(document).code(response.statusCode);
    });
  },
};

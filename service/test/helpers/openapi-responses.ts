// Checks a response against the served OpenAPI document (operation, status, media type, headers, JSON body
// via ajv); buildServer runs it on every injected response, so an undocumented answer fails a test.
import type { RequestRoute, Server, ServerInjectResponse } from '@hapi/hapi';
import { Ajv, type ValidateFunction } from 'ajv';
import { DOCS_PATH, OPENAPI_PATH } from '../../src/plugins/docs.ts';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';

/**
 * Routes the document deliberately leaves out: the docs themselves (the document, Swagger UI and its
 * assets) and the Lambda pass-through events route, which exists only inside Lambda and only the Lambda
 * Web Adapter (never an HTTP client) reaches.
 */
const UNDOCUMENTED_PATHS = [OPENAPI_PATH, DOCS_PATH, EVENTS_PATH];
const isUndocumentedPath = (path: string) =>
  UNDOCUMENTED_PATHS.includes(path) || path.startsWith('/swaggerui/');

interface Header {
  $ref?: string;
  required?: boolean;
  schema?: Record<string, unknown>;
}
interface ResponseObject {
  headers?: Record<string, Header>;
  content?: Record<string, { schema?: unknown }>;
}
interface Document {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { headers?: Record<string, Header> };
}

const escapePointer = (part: string) => part.replaceAll('~', '~0').replaceAll('/', '~1');

export class OpenApiResponseValidator {
  readonly #document: Document;
  readonly #ajv = new Ajv({ strict: false, allErrors: true });
  readonly #compiled = new Map<string, ValidateFunction>();
  /** "METHOD path" of the routes the service itself defines (tests may add fixture routes later). */
  readonly #serviceRoutes: Set<string>;

  private constructor(document: Document, server: Server) {
    this.#document = document;
    // The two formats the document uses: joi's iso() dates (as JSON: toISOString) and raw bytes.
    this.#ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    this.#ajv.addFormat('binary', true);
    this.#ajv.addSchema(document, 'openapi.json');
    this.#serviceRoutes = new Set(server.table().map((route) => `${route.method} ${route.path}`));
  }

  static async for(server: Server): Promise<OpenApiResponseValidator> {
    const response = await server.inject(OPENAPI_PATH);
    if (response.statusCode !== 200) throw new Error(`${OPENAPI_PATH} answered ${response.statusCode}`);
    return new OpenApiResponseValidator(JSON.parse(response.payload) as Document, server);
  }

  /** What is wrong with this response per the document (empty: nothing, or deliberately undescribed). */
  violations(response: ServerInjectResponse): string[] {
    const route: RequestRoute = response.request.route;
    const method: string = route.method;
    // No route matched (unknown path, or a request refused before routing): no document can list those.
    if (method === '_special' || method === 'options') return [];
    if (!this.#serviceRoutes.has(`${method} ${route.path}`)) return []; // a test's own fixture route
    const where = `${response.request.method.toUpperCase()} ${route.path} → ${response.statusCode}`;
    const operation = this.#document.paths[route.path]?.[method];
    if (operation === undefined) {
      return isUndocumentedPath(route.path) ? [] : [`${where}: the route is not in the document`];
    }
    const declared = operation.responses[String(response.statusCode)];
    if (declared === undefined) return [`${where}: the status is not documented`];

    const problems: string[] = [];
    for (const [name, header] of Object.entries(declared.headers ?? {})) {
      const resolved = this.#header(header);
      const value = response.headers[name.toLowerCase()];
      if (value === undefined) {
        if (resolved.required) problems.push(`${where}: required header ${name} is missing`);
      } else if (resolved.schema?.type === 'integer' && !/^\d+$/.test(String(value))) {
        problems.push(`${where}: header ${name} is not an integer: ${String(value)}`);
      }
    }

    const isHead = response.request.method === 'head';
    const hasBody = response.rawPayload.length > 0;
    const content = declared.content;
    if (content === undefined) {
      if (hasBody) problems.push(`${where}: a body, but the document declares none`);
      return problems;
    }
    if (!hasBody && !isHead) return [...problems, `${where}: no body, but the document declares one`];
    const mediaType = (response.headers['content-type'] ?? '').split(';')[0]!.trim();
    if (content[mediaType] === undefined) {
      return [...problems, `${where}: media type ${mediaType || '(none)'} is not documented`];
    }
    if (isHead || mediaType !== 'application/json') return problems;

    const pointer = ['paths', route.path, method, 'responses', String(response.statusCode)]
      .map(escapePointer)
      .join('/');
    const key = `${pointer}/content/application~1json/schema`;
    let validate = this.#compiled.get(key);
    if (validate === undefined) {
      validate = this.#ajv.compile({ $ref: `openapi.json#/${key}` });
      this.#compiled.set(key, validate);
    }
    if (!validate(JSON.parse(response.payload))) {
      problems.push(`${where}: body does not match the schema: ${this.#ajv.errorsText(validate.errors)}`);
    }
    return problems;
  }

  #header(header: Header): Header {
    const name = header.$ref?.split('/').pop();
    return name === undefined ? header : (this.#document.components.headers?.[name] ?? header);
  }
}

// What route schemas cannot say (auth, limits, errors, examples); pure, so the baked copy is the same.
import type { RequestRoute, RouteOptionsPayload } from '@hapi/hapi';
import { errorRegistry } from '../errors/error-codes.ts';
import type { DomainModule, HeaderObjects } from '../modules/module.ts';

// What hapi-swagger cannot express, e.g. binary responses.
interface OperationOverrides {
  readonly responses?: Record<string, unknown>;
}

declare module '@hapi/hapi' {
  interface PluginSpecificConfiguration {
    // Documentation only, never behaviour.
    openapi?: OperationOverrides;
  }
}

type Json = Record<string, unknown>;
interface Operation extends Json {
  parameters?: Json[];
  requestBody?: { content?: Record<string, Json>; required?: boolean };
  responses: Record<string, Json>;
  security?: unknown;
}
export interface OpenApiDocument extends Json {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas?: Record<string, Json>; [key: string]: unknown };
}

export interface CompletionContext {
  route(method: string, path: string): RequestRoute | null;
  // Every environment documents the same: keys may be on.
  keyed(route: RequestRoute): boolean;
  readonly security: unknown;
  readonly modules: readonly DomainModule[];
}

const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
const integerHeader = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });

const SERVICE_HEADERS = {
  'x-request-id': {
    description: "The request's trace id, also the envelope's traceId",
    required: true,
    schema: { type: 'string' },
  },
  ETag: { description: 'Strong validator of the cover bytes', required: true, schema: { type: 'string' } },
} as const;

function moduleHeaders(modules: readonly DomainModule[]) {
  const components: Record<string, HeaderObjects[string]> = { ...SERVICE_HEADERS };
  const add = (headers: HeaderObjects = {}) => {
    for (const [name, header] of Object.entries(headers)) {
      if (name in components && JSON.stringify(components[name]) !== JSON.stringify(header))
        throw new Error(`the response header ${name} is described twice, differently`);
      components[name] = header;
    }
    return Object.keys(headers);
  };
  const authenticated = modules.flatMap((module) => add(module.responseHeaders?.authenticated));
  const refusals = new Map<number, string[]>();
  for (const module of modules) {
    for (const [status, headers] of Object.entries(module.responseHeaders?.refusals ?? {}))
      refusals.set(Number(status), [...(refusals.get(Number(status)) ?? []), ...add(headers)]);
  }
  return { components, authenticated, refusals: [...refusals].sort(([a], [b]) => a - b) };
}

function codesOf(status: number): string {
  const codes = [...errorRegistry().values()]
    .filter((definition) => definition.status === status)
    .map((definition) => `${definition.code} ${definition.message}`);
  return codes.join('; ');
}

const errorResponse = (status: number, extraHeaders: readonly string[] = []) => ({
  description: codesOf(status),
  headers: Object.fromEntries(extraHeaders.map((name) => [name, ref(name)])),
  content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
});

// Input guard, bad encoding; any failure; database down or unmigrated, route timeout.
const ALWAYS = [400, 500, 503];
// hapi reads a body for every method but GET, even a DELETE's.
const WITH_BODY = [408, 413, 415];

export function completeOpenApiDocument(raw: unknown, context: CompletionContext): OpenApiDocument {
  const document = structuredClone(raw) as OpenApiDocument;
  document.openapi = '3.0.3';
  // No request header may choose where Swagger UI sends keys.
  document.servers = [{ url: '/', description: 'The server that served this document' }];
  const headersOf = moduleHeaders(context.modules);
  document.components.headers = structuredClone(headersOf.components);
  const schemas = document.components.schemas ?? {};
  const envelope = schemas.ErrorEnvelope as { properties: { code: Json } } | undefined;
  if (envelope) {
    envelope.properties.code.description = `Internal error code: ${[...errorRegistry().values()]
      .map((definition) => `${definition.code} (${definition.status})`)
      .join(', ')}; see the error table in docs/api.md`;
  }

  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const route = context.route(method, path);
      if (route === null) continue;
      const keyed = context.keyed(route);
      if (keyed) operation.security = context.security;
      else delete operation.security;

      addExamples(operation, schemas);
      const payload: RouteOptionsPayload | undefined = route.settings.payload;
      const readsBody = method !== 'get';
      if (readsBody && payload?.parse === false && Array.isArray(payload.allow)) {
        operation.requestBody = {
          required: true,
          content: Object.fromEntries(
            payload.allow.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
          ),
        };
      } else if (operation.requestBody) {
        operation.requestBody.required = true;
      }

      Object.assign(operation.responses, structuredClone(route.settings.plugins?.openapi?.responses));
      for (const status of [...ALWAYS, ...(readsBody ? WITH_BODY : [])]) {
        if (!(status in operation.responses)) operation.responses[status] = errorResponse(status);
      }
      if (keyed) {
        for (const [status, names] of headersOf.refusals)
          operation.responses[status] = errorResponse(status, names);
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        if (response.description === 'Error') response.description = codesOf(Number(status));
        const headers = (response.headers ?? {}) as Json;
        headers['x-request-id'] = ref('x-request-id');
        if (keyed) for (const name of headersOf.authenticated) headers[name] = ref(name);
        // Only an overloaded instance's 503 (5034) carries it.
        if (status === '503') headers['Retry-After'] = integerHeader('With code 5034: seconds to wait');
        response.headers = headers;
      }
    }
  }
  return document;
}

// Example-driven tools (dredd, Prism) need a value for every parameter and body.
function addExamples(operation: Operation, schemas: Record<string, Json>): void {
  for (const parameter of operation.parameters ?? []) {
    const schema = parameter.schema as Json | undefined;
    if (parameter.example === undefined && schema?.example !== undefined) parameter.example = schema.example;
  }
  const json = operation.requestBody?.content?.['application/json'];
  const target = (json?.schema as { $ref?: string } | undefined)?.$ref?.split('/').pop();
  const properties = target ? (schemas[target]?.properties as Record<string, Json> | undefined) : undefined;
  if (json && properties && json.example === undefined) {
    json.example = Object.fromEntries(
      Object.entries(properties)
        .filter(([, property]) => property.example !== undefined)
        .map(([name, property]) => [name, property.example]),
    );
  }
}

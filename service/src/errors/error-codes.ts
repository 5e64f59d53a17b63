// The one error-code registry. Clients switch on the codes: never renumber one.
import { DOMAIN_MODULES, domainModules } from '../modules/index.ts';

export interface ErrorCodeDefinition {
  readonly code: number;
  readonly status: number;
  // Safe to show to clients.
  readonly message: string;
  // For docs/api.md's table (`npm run docs:errors`); the message if absent.
  readonly when?: string;
}

// Failed pass-through events only: docs/container.md#what-the-image-sets-for-the-adapter
export const INVOCATION_ERROR_STATUS = 599;

export const ErrorCodes = {
  UNKNOWN: {
    code: 100,
    status: 500,
    message: 'An unexpected error occurred',
    when: 'Anything unexpected; the client sees a generic message, the log has the error',
  },
  BAD_REQUEST: {
    code: 4000,
    status: 400,
    message: 'The request is malformed',
    when: 'A malformed request not covered below',
  },
  INVALID_JSON: { code: 4001, status: 400, message: 'The request body is not valid JSON' },
  UNAUTHORIZED: { code: 4010, status: 401, message: 'Authentication is required' },
  FORBIDDEN: { code: 4030, status: 403, message: 'Access is forbidden' },
  ROUTE_NOT_FOUND: {
    code: 4040,
    status: 404,
    message: 'No route matches this path',
    when: 'No route serves the path, with any method',
  },
  NOT_FOUND: { code: 4041, status: 404, message: 'The resource was not found' },
  METHOD_NOT_ALLOWED: {
    code: 4050,
    status: 405,
    message: 'The method is not allowed on this path',
    when: 'The path exists, not with this method; `Allow` lists its methods',
  },
  REQUEST_TIMEOUT: { code: 4080, status: 408, message: 'The request body was not received in time' },
  CONFLICT: {
    code: 4090,
    status: 409,
    message: 'The resource conflicts with an existing one',
    when: 'A unique constraint was violated',
  },
  PAYLOAD_TOO_LARGE: {
    code: 4130,
    status: 413,
    message: 'The request body is too large',
    when: 'The body exceeds `PAYLOAD_MAX_BYTES`',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 4150,
    status: 415,
    message: 'The content type is not supported',
    when: 'The content type is not accepted (JSON only, UTF-8 only), or a body has none',
  },
  EXPECTATION_FAILED: {
    code: 4170,
    status: 417,
    message: 'The Expect header asks for something this server does not do (only 100-continue is supported)',
    when: 'An `Expect` header other than `100-continue`',
  },
  TOO_MANY_REQUESTS: { code: 4290, status: 429, message: 'Too many requests' },
  HEADERS_TOO_LARGE: {
    code: 4310,
    status: 431,
    message: 'The request headers are too large',
    when: "The request headers exceed Node's limit (16 KiB)",
  },
  VALIDATION_FAILED: {
    code: 8001,
    status: 400,
    message: 'The request failed validation',
    when: 'joi validation failed; `errors` lists each field',
  },
  EVENT_UNKNOWN: {
    code: 9501,
    status: INVOCATION_ERROR_STATUS,
    message: 'The event is not recognised',
    when: 'A Lambda pass-through event that the service does not handle',
  },
  EVENT_FAILED: {
    code: 9502,
    status: INVOCATION_ERROR_STATUS,
    message: 'The event handler failed',
    when: 'A pass-through event (migration, maintenance) failed',
  },
  DATABASE_UNAVAILABLE: {
    code: 5031,
    status: 503,
    message: 'The database is unavailable; try again shortly',
    when: 'The database is down, unreachable or too slow; retry shortly',
  },
  // Not transient: an operator must act (migrations, DATABASE_URL).
  DATABASE_NOT_MIGRATED: {
    code: 5032,
    status: 503,
    message: 'The database schema is behind this version of the service: run the migrations',
    when: 'The schema is behind the service (missing table or column): migrate',
  },
  DATABASE_NOT_FOUND: {
    code: 5033,
    status: 503,
    message: 'The database the service is configured with does not exist on the server',
    when: 'The database named in the connection URL does not exist on the server',
  },
  TIMEOUT: { code: 5030, status: 503, message: 'The request took too long' },
  // More requests than connections on this instance; the database is fine.
  OVERLOADED: {
    code: 5034,
    status: 503,
    message: 'The service is busy; retry after the Retry-After delay',
    when: 'This instance is busy (the database is fine); retry after `Retry-After`',
  },
} as const satisfies Record<string, ErrorCodeDefinition>;

type KeysOf<T> = T extends unknown ? keyof T : never;
export type ErrorCodeName = keyof typeof ErrorCodes | KeysOf<(typeof DOMAIN_MODULES)[number]['errorCodes']>;

let registry: ReadonlyMap<ErrorCodeName, ErrorCodeDefinition> | undefined;

// Built on first use: the modules import this file, so their list is not there while they load.
export function errorRegistry(): ReadonlyMap<ErrorCodeName, ErrorCodeDefinition> {
  if (registry !== undefined) return registry;
  const entries: [string, ErrorCodeDefinition][] = [
    ...Object.entries(ErrorCodes),
    ...domainModules.flatMap((module) => Object.entries(module.errorCodes)),
  ];
  const names = new Set<string>();
  const codes = new Set<number>();
  for (const [name, { code }] of entries) {
    if (names.has(name) || codes.has(code))
      throw new Error(`error code ${name} (${code}) is registered twice`);
    names.add(name);
    codes.add(code);
  }
  registry = new Map(entries as [ErrorCodeName, ErrorCodeDefinition][]);
  return registry;
}

export function errorCode(name: ErrorCodeName): ErrorCodeDefinition {
  const definition = errorRegistry().get(name);
  if (definition === undefined) throw new Error(`no error code is named ${name}`);
  return definition;
}

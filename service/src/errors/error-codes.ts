// The one registry of internal error codes. Codes are stable: clients may switch on them, so never
// renumber one; add new codes instead. docs/api.md's error table must list exactly these (test/docs.test.ts).

export interface ErrorCodeDefinition {
  readonly code: number;
  readonly status: number;
  /** Safe to show to clients. */
  readonly message: string;
}

/**
 * The status of every failed Lambda pass-through event, and of nothing else: no HTTP route can answer it
 * (the error mapper sends a 500 instead). The image lists exactly this one in AWS_LWA_ERROR_STATUS_CODES,
 * so the Lambda Web Adapter turns a failed event (a migration) into an invocation error, while HTTP
 * errors keep their envelope; the adapter would otherwise drop the status of an event's answer.
 */
export const INVOCATION_ERROR_STATUS = 599;

export const ErrorCodes = {
  UNKNOWN: { code: 100, status: 500, message: 'An unexpected error occurred' },
  BAD_REQUEST: { code: 4000, status: 400, message: 'The request is malformed' },
  INVALID_JSON: { code: 4001, status: 400, message: 'The request body is not valid JSON' },
  UNAUTHORIZED: { code: 4010, status: 401, message: 'Authentication is required' },
  API_KEY_MISSING: {
    code: 4011,
    status: 401,
    message: 'An API key is required: send it in the x-api-key header or as Authorization: Bearer <key>',
  },
  API_KEY_INVALID: { code: 4012, status: 401, message: 'The API key is not valid' },
  API_KEY_REVOKED: { code: 4013, status: 401, message: 'The API key has been revoked' },
  FORBIDDEN: { code: 4030, status: 403, message: 'Access is forbidden' },
  ROUTE_NOT_FOUND: { code: 4040, status: 404, message: 'No route matches this path' },
  NOT_FOUND: { code: 4041, status: 404, message: 'The resource was not found' },
  METHOD_NOT_ALLOWED: { code: 4050, status: 405, message: 'The method is not allowed on this path' },
  REQUEST_TIMEOUT: { code: 4080, status: 408, message: 'The request body was not received in time' },
  CONFLICT: { code: 4090, status: 409, message: 'The resource conflicts with an existing one' },
  PAYLOAD_TOO_LARGE: { code: 4130, status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { code: 4150, status: 415, message: 'The content type is not supported' },
  EXPECTATION_FAILED: {
    code: 4170,
    status: 417,
    message: 'The Expect header asks for something this server does not do (only 100-continue is supported)',
  },
  TOO_MANY_REQUESTS: { code: 4290, status: 429, message: 'Too many requests' },
  HEADERS_TOO_LARGE: { code: 4310, status: 431, message: 'The request headers are too large' },
  RATE_LIMITED: {
    code: 4291,
    status: 429,
    message: 'Too many requests for this API key this minute; retry after the Retry-After delay',
  },
  QUOTA_EXCEEDED: {
    code: 4292,
    status: 429,
    message: "This API key's daily quota is used up; it resets at midnight UTC",
  },
  VALIDATION_FAILED: { code: 8001, status: 400, message: 'The request failed validation' },
  BOOK_NOT_FOUND: { code: 9001, status: 404, message: 'The book was not found' },
  BOOK_ISBN_TAKEN: { code: 9002, status: 409, message: 'A book with this ISBN already exists' },
  API_KEY_NOT_FOUND: { code: 9101, status: 404, message: 'No API key has this id' },
  EVENT_UNKNOWN: { code: 9501, status: INVOCATION_ERROR_STATUS, message: 'The event is not recognised' },
  EVENT_FAILED: { code: 9502, status: INVOCATION_ERROR_STATUS, message: 'The event handler failed' },
  DATABASE_UNAVAILABLE: {
    code: 5031,
    status: 503,
    message: 'The database is unavailable; try again shortly',
  },
  // Not transient: an operator must act (run the migrations, fix DATABASE_URL); retrying will not help.
  DATABASE_NOT_MIGRATED: {
    code: 5032,
    status: 503,
    message: 'The database schema is behind this version of the service: run the migrations',
  },
  DATABASE_NOT_FOUND: {
    code: 5033,
    status: 503,
    message: 'The database the service is configured with does not exist on the server',
  },
  TIMEOUT: { code: 5030, status: 503, message: 'The request took too long' },
  // The database is fine: this instance has more requests than connections; Retry-After says when to retry.
  OVERLOADED: {
    code: 5034,
    status: 503,
    message: 'The service is busy; retry after the Retry-After delay',
  },
} as const satisfies Record<string, ErrorCodeDefinition>;

export type ErrorCodeName = keyof typeof ErrorCodes;

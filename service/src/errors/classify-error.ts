// Any thrown value → registry code, safe message, field errors; pure, so every mapping is unit-tested.
import type { Boom } from '@hapi/boom';
import type { ValidationErrorItem } from 'joi';
import type { FieldError } from '../lib/envelope.ts';
import { DomainError } from './domain-error.ts';
import {
  errorCode,
  errorRegistry,
  ErrorCodes,
  INVOCATION_ERROR_STATUS,
  type ErrorCodeDefinition,
  type ErrorCodeName,
} from './error-codes.ts';

export interface ClassifiedError {
  readonly name: ErrorCodeName;
  readonly definition: ErrorCodeDefinition;
  readonly message: string;
  readonly errors?: readonly FieldError[];
  // Logged with its stack; the client sees the generic message.
  readonly unexpected: boolean;
  readonly status: number;
}

export interface ClassifyContext {
  readonly routeMatched: boolean;
  // Non-empty makes it a 405.
  readonly allowedMethods?: readonly string[];
  // Every failure of a pass-through event is an invocation error.
  readonly passThroughEvent?: boolean;
}

type Classification = Omit<ClassifiedError, 'status'>;

const BOOM_STATUS_CODES: Readonly<Partial<Record<number, ErrorCodeName>>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'TIMEOUT',
};

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
// admin_shutdown, crash_shutdown, cannot_connect_now (starting up), too_many_connections; and class 08.
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const CONNECTION_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|Connection ended|Client has encountered a connection error|connect ECONNREFUSED|database system is (starting up|shutting down)/i;
// Bad UTF-8 (NUL), untranslatable, too long: the client's input.
const INVALID_VALUE_SQLSTATES = new Set(['22021', '22P05', '22001']);
// The message counts the rest.
export const MAX_FIELD_ERRORS = 20;
// Client timeout or statement_timeout: the connection was fine.
const QUERY_TIMEOUT_SQLSTATES = new Set(['57014']);
const QUERY_TIMEOUT_MESSAGES = /Query read timeout/i;
// Only an operator can fix these: migrations not (all) run, or no such database.
const SETUP_SQLSTATES: Readonly<Record<string, DatabaseSetupProblem>> = {
  '42P01': 'DATABASE_NOT_MIGRATED',
  '42703': 'DATABASE_NOT_MIGRATED',
  '3D000': 'DATABASE_NOT_FOUND',
};

export type DatabaseSetupProblem = 'DATABASE_NOT_MIGRATED' | 'DATABASE_NOT_FOUND';

export function classifyError(error: unknown, context: ClassifyContext): ClassifiedError {
  const classified = classify(error, context);
  if (context.passThroughEvent === true) return { ...classified, status: INVOCATION_ERROR_STATUS };
  // Only events may answer with the invocation error status: anywhere else an event code is a bug.
  if (classified.definition.status === INVOCATION_ERROR_STATUS) {
    return { ...classified, status: 500, unexpected: true };
  }
  return { ...classified, status: classified.definition.status };
}

function classify(error: unknown, context: ClassifyContext): Classification {
  if (error instanceof DomainError) {
    // A failed database start-up keeps its cause: a missing database or schema is no passing outage.
    const setupProblem = error.code === 'DATABASE_UNAVAILABLE' ? databaseSetupProblem(error) : undefined;
    return setupProblem === undefined ? known(error.code, error.message) : known(setupProblem);
  }
  // hapi boomifies whatever a handler throws (as a 500), so ORM errors are recognised before Boom's status.
  if (error instanceof Error) {
    if (error.name === 'NotFoundError') return known('NOT_FOUND');
    // The ORM's exception, or PostgreSQL's unique_violation from a raw query.
    if (
      error.name === 'UniqueConstraintViolationException' ||
      (error as { code?: unknown }).code === '23505'
    ) {
      return known('CONFLICT');
    }
    const setupProblem = databaseSetupProblem(error);
    if (setupProblem !== undefined) return known(setupProblem);
    // A safety net: the input guard refuses NUL and lone surrogates first, validation the lengths.
    if (anyInChain(error, hasInvalidValueSqlState)) return known('BAD_REQUEST');
    const isClientError = isBoom(error) && !error.isServer;
    if (!isClientError && isDatabaseUnavailable(error)) return known('DATABASE_UNAVAILABLE');
  }
  if (isBoom(error)) {
    return classifyBoom(error, context);
  }
  return {
    name: 'UNKNOWN',
    definition: ErrorCodes.UNKNOWN,
    message: ErrorCodes.UNKNOWN.message,
    unexpected: true,
  };
}

export function isDatabaseUnavailable(error: unknown): boolean {
  return isConnectionFailure(error) || anyInChain(error, isQueryTimeout);
}

// Nothing ran, or it rolled back with the connection: a retry is safe. Never an SQL error.
export function isConnectionFailure(error: unknown): boolean {
  return anyInChain(error, (current) => {
    // The ORM failed to start: judged by its cause if any, else transient.
    if (current instanceof DomainError) {
      return current.code === 'DATABASE_UNAVAILABLE' && current.cause === undefined;
    }
    const { code, name, message } = current as Error & { code?: unknown };
    if (name === 'ConnectionException') return true;
    if (typeof code === 'string') {
      if (CONNECTION_ERRNOS.has(code) || CONNECTION_SQLSTATES.has(code) || code.startsWith('08')) return true;
    }
    return CONNECTION_MESSAGES.test(message);
  });
}

export function databaseSetupProblem(error: unknown): DatabaseSetupProblem | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const { code } = current as Error & { code?: unknown };
    if (typeof code === 'string' && Object.hasOwn(SETUP_SQLSTATES, code)) return SETUP_SQLSTATES[code];
    current = current.cause;
  }
  return undefined;
}

function hasInvalidValueSqlState(error: Error): boolean {
  const { code } = error as Error & { code?: unknown };
  return typeof code === 'string' && INVALID_VALUE_SQLSTATES.has(code);
}

function isQueryTimeout(error: Error): boolean {
  const { code } = error as Error & { code?: unknown };
  return (
    (typeof code === 'string' && QUERY_TIMEOUT_SQLSTATES.has(code)) ||
    QUERY_TIMEOUT_MESSAGES.test(error.message)
  );
}

// Drivers and the ORM wrap errors.
function anyInChain(error: unknown, test: (error: Error) => boolean): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (test(current)) return true;
    current = current.cause;
  }
  return false;
}

function classifyBoom(error: Boom, { routeMatched, allowedMethods = [] }: ClassifyContext): Classification {
  const status = error.output.statusCode;
  // A Boom built on purpose with a registry code (e.g. auth failures, which need hapi's headers).
  const named = (error.data as { code?: unknown } | null | undefined)?.code;
  if (typeof named === 'string' && isErrorCodeName(named) && errorCode(named).status === status) {
    return known(named);
  }
  if (status >= 500) {
    // A 503 raised on purpose (hapi's route timeout) is safe to name; anything else 5xx is a bug.
    return status === 503 ? known('TIMEOUT') : { ...known('UNKNOWN'), unexpected: true };
  }
  const details = (error as Boom & { details?: ValidationErrorItem[] }).details;
  if (status === 400 && Array.isArray(details)) {
    const source = (error.output.payload as { validation?: { source?: string } }).validation?.source;
    // Capped: a body of 90,000 unknown keys must not come back as 90,000 field errors.
    const errors = details.slice(0, MAX_FIELD_ERRORS).map((d) => toFieldError(d, source));
    const rest = details.length - errors.length;
    const message =
      rest > 0 ? `${ErrorCodes.VALIDATION_FAILED.message} (and ${rest} more errors)` : undefined;
    return { ...known('VALIDATION_FAILED', message), errors };
  }
  if (status === 400 && /JSON/i.test(error.message)) return known('INVALID_JSON');
  if (status === 404 && !routeMatched) {
    return known(allowedMethods.length > 0 ? 'METHOD_NOT_ALLOWED' : 'ROUTE_NOT_FOUND');
  }
  const name = BOOM_STATUS_CODES[status] ?? 'BAD_REQUEST';
  // hapi's own 4xx messages ("Payload content length greater than maximum allowed: …") are safe and useful.
  const message = error.output.payload.message || errorCode(name).message;
  return { name, definition: errorCode(name), message, unexpected: false };
}

function toFieldError(detail: ValidationErrorItem, source: string | undefined): FieldError {
  const path = detail.path.join('.');
  const field = source === undefined ? path : path === '' ? source : `${source}.${path}`;
  return { field, message: detail.message.replace(/"/g, '') };
}

function known(name: ErrorCodeName, message?: string): Classification {
  return {
    name,
    definition: errorCode(name),
    message: message ?? errorCode(name).message,
    unexpected: false,
  };
}

function isErrorCodeName(name: string): name is ErrorCodeName {
  return errorRegistry().has(name as ErrorCodeName);
}

function isBoom(error: unknown): error is Boom {
  return error instanceof Error && (error as Partial<Boom>).isBoom === true;
}

// Errors raised below the HTTP edge. They name a registry code; the error mapper turns them into
// envelopes, so services and repositories never import Boom.
import { ErrorCodes, type ErrorCodeName } from './error-codes.ts';

export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  readonly code: ErrorCodeName;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCodeName,
    message: string = ErrorCodes[code].message,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

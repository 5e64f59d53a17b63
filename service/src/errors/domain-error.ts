// Errors below the HTTP edge name a registry code, so services and repositories never import Boom.
import { errorCode, type ErrorCodeName } from './error-codes.ts';

export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  readonly code: ErrorCodeName;

  // `cause` goes to the log only; clients never see it.
  constructor(code: ErrorCodeName, message: string = errorCode(code).message, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

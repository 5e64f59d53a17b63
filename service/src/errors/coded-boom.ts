// A Boom that names a registry code, for errors that must carry HTTP headers (WWW-Authenticate,
// Retry-After) or are raised where hapi expects a Boom (auth schemes). The error mapper keeps the code.
import { Boom } from '@hapi/boom';
import { errorCode, type ErrorCodeName } from './error-codes.ts';

export function codedBoom(name: ErrorCodeName, headers: Readonly<Record<string, string>> = {}): Boom {
  const { status, message } = errorCode(name);
  const error = new Boom(message, { statusCode: status, data: { code: name } });
  Object.assign(error.output.headers, headers);
  return error;
}

// A Boom naming a registry code: for errors with headers (WWW-Authenticate) and in auth schemes.
import { Boom } from '@hapi/boom';
import { errorCode, type ErrorCodeName } from './error-codes.ts';

export function codedBoom(name: ErrorCodeName, headers: Readonly<Record<string, string>> = {}): Boom {
  const { status, message } = errorCode(name);
  const error = new Boom(message, { statusCode: status, data: { code: name } });
  Object.assign(error.output.headers, headers);
  return error;
}

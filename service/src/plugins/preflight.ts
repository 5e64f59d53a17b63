// CORS preflights end like every other request: a 4xx envelope, never hapi's bare answers.
import { badRequest } from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import { ErrorCodes } from '../errors/error-codes.ts';
import { errorEnvelope } from '../lib/envelope.ts';

export const preflightPlugin: Plugin<void> = {
  name: 'preflight',
  dependencies: ['request-context', 'errors'],
  register(server) {
    // hapi's CORS preflight handler asserts on a path it cannot decode (`/v1/books/%zz`) and answers 500;
    // other methods already get a 400 for it, so give preflights the same.
    server.ext('onRequest', (request, h) => {
      if (request.method !== 'options') return h.continue;
      try {
        decodeURIComponent(request.path);
      } catch {
        throw badRequest('The path is not valid percent-encoding');
      }
      return h.continue;
    });

    // hapi answers a refused preflight (origin or headers not allowed, CORS off) with a bare 200
    // `{ message }`; answer 403 with the envelope like every other refusal.
    server.ext('onPreResponse', (request, h) => {
      const { response } = request;
      const source = 'source' in response ? (response.source as { message?: unknown } | null) : null;
      if (
        request.method !== 'options' ||
        typeof source?.message !== 'string' ||
        !/^CORS /.test(source.message)
      ) {
        return h.continue;
      }
      const { code, status } = ErrorCodes.FORBIDDEN;
      return h.response(errorEnvelope(request.app.traceId, code, source.message)).code(status);
    });
  },
};

// Preflights get the envelope too; the events route's looks like an unknown path's.
import { badRequest, forbidden, notFound } from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import { ErrorCodes } from '../errors/error-codes.ts';
import { errorEnvelope } from '../lib/envelope.ts';
import { clientRoute } from './errors.ts';

export const preflightPlugin: Plugin<void> = {
  name: 'preflight',
  dependencies: ['request-context', 'errors'],
  register(server) {
    const corsEnabled = server.app.config.corsOrigins.length > 0;
    // hapi's preflight handler answers 500 for a path it cannot decode (`/v1/books/%zz`); others get 400.
    server.ext('onRequest', (request, h) => {
      if (request.method !== 'options') return h.continue;
      try {
        decodeURIComponent(request.path);
      } catch {
        throw badRequest('The path is not valid percent-encoding');
      }
      const method = request.headers['access-control-request-method'];
      if (typeof method !== 'string') return h.continue;
      // hapi's own preflight handler would answer the events route (200, allow-methods: POST).
      if (clientRoute(request, method) === null) throw notFound();
      // With CORS off hapi has no preflight handler at all (the router answers 405).
      if (!corsEnabled) throw forbidden('CORS is not enabled on this service');
      return h.continue;
    });

    // hapi answers a refused preflight with a bare 200 `{ message }`.
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

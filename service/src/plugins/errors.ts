// The one error mapper: every error response leaves through here as an envelope with a registry code.
// 5xx messages never reach clients; the real error goes to the log with the request's trace id.
import type { Plugin } from '@hapi/hapi';
import { classifyError } from '../errors/classify-error.ts';
import { errorEnvelope } from '../lib/envelope.ts';

export const errorsPlugin: Plugin<void> = {
  name: 'errors',
  dependencies: ['request-context', 'logging'],
  register(server) {
    server.ext('onPreResponse', (request, h) => {
      const { response } = request;
      if (!('isBoom' in response) || !response.isBoom) return h.continue;

      const classified = classifyError(response, {
        routeMatched: (request.route.method as string) !== '_special',
      });
      const { definition } = classified;
      if (classified.unexpected) {
        request.logger.error({ err: response, code: definition.code }, 'request failed');
      } else if (definition.status >= 500) {
        request.logger.warn(
          { err: { message: response.message, cause: causeOf(response) }, code: definition.code },
          'dependency unavailable',
        );
      }

      const reply = h
        .response(errorEnvelope(request.app.traceId, definition.code, classified.message, classified.errors))
        .code(definition.status);
      // Keep headers hapi set on purpose (Allow on 405, WWW-Authenticate on 401, Retry-After on 429/503).
      for (const [key, value] of Object.entries(response.output.headers)) {
        if (value !== undefined && key.toLowerCase() !== 'content-type') reply.header(key, String(value));
      }
      return reply;
    });
  },
};

/** What lies under a wrapped error (e.g. why the readiness check could not reach the database). */
function causeOf(error: Error): string | undefined {
  return error.cause instanceof Error ? error.cause.message : undefined;
}

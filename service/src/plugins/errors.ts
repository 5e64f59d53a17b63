// The one error mapper: an envelope with a registry code; a 5xx's detail goes only to the log.
import type { Plugin, Request, RequestRoute, RouteDefMethods } from '@hapi/hapi';
import { classifyError } from '../errors/classify-error.ts';
import { INVOCATION_ERROR_STATUS } from '../errors/error-codes.ts';
import { errorEnvelope } from '../lib/envelope.ts';

// Its failures are invocation errors.
export interface PassThroughRouteApp {
  readonly passThroughEvents: true;
}

export const errorsPlugin: Plugin<void> = {
  name: 'errors',
  dependencies: ['request-context', 'logging'],
  register(server) {
    server.ext('onPreResponse', (request, h) => {
      const { response } = request;
      if (!('isBoom' in response) || !response.isBoom) return h.continue;

      const routeMatched = (request.route.method as string) !== '_special';
      const allowedMethods =
        !routeMatched && response.output.statusCode === 404 ? methodsServing(request) : [];
      const classified = classifyError(response, {
        routeMatched,
        allowedMethods,
        passThroughEvent: isPassThroughEvent(request),
      });
      const { definition } = classified;
      if (classified.unexpected) {
        request.logger.error({ err: response, code: definition.code }, 'request failed');
      } else if (classified.name === 'OVERLOADED') {
        request.logger.warn({ code: definition.code }, 'overloaded: request shed');
      } else if (definition.status >= 500 && definition.status !== INVOCATION_ERROR_STATUS) {
        // The events plugin logs failed events with their cause.
        request.logger.warn(
          { err: { message: response.message, cause: causeOf(response) }, code: definition.code },
          'dependency unavailable',
        );
      }

      const reply = h
        .response(errorEnvelope(request.app.traceId, definition.code, classified.message, classified.errors))
        .code(classified.status);
      // Allow on 405, WWW-Authenticate on 401, Retry-After on 429/503.
      for (const [key, value] of Object.entries(response.output.headers)) {
        if (value !== undefined && key.toLowerCase() !== 'content-type') reply.header(key, String(value));
      }
      if (classified.name === 'METHOD_NOT_ALLOWED') reply.header('allow', allowedMethods.join(', '));
      return reply;
    });
  },
};

// In `Allow` order; hapi serves HEAD for GET.
const LISTED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

// hapi answers an unknown path and a wrong method alike (404): ask the router per method.
function methodsServing(request: Request): string[] {
  return LISTED_METHODS.filter((method) => {
    const lookup = method === 'HEAD' ? 'GET' : method;
    return lookup.toLowerCase() !== request.method && routes(request, lookup);
  });
}

function routes(request: Request, method: (typeof LISTED_METHODS)[number]): boolean {
  return clientRoute(request, method) !== null;
}

// No Allow header or preflight may reveal the pass-through events route.
export function clientRoute(request: Request, method: string): RequestRoute | null {
  try {
    const route = request.server.match(method.toUpperCase() as RouteDefMethods, request.path);
    const app: Partial<PassThroughRouteApp> | undefined = route?.settings.app;
    return app?.passThroughEvents === true ? null : route;
  } catch {
    // A method the router does not know, or a path it cannot decode (`/v1/books/%zz`).
    return null;
  }
}

function isPassThroughEvent(request: Request): boolean {
  const app: Partial<PassThroughRouteApp> | undefined = request.route.settings.app;
  return app?.passThroughEvents === true && request.app.lambda.passThroughEvent;
}

function causeOf(error: Error): string | undefined {
  return error.cause instanceof Error ? error.cause.message : undefined;
}

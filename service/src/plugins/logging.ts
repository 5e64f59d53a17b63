// hapi-pino is the service's only request logger: one line per request with method, path, status,
// duration and the request's ids.
import type { Plugin, Request } from '@hapi/hapi';
import hapiPino, { type Options as HapiPinoOptions } from 'hapi-pino';
import type { Logger } from 'pino';

export interface LoggingOptions {
  readonly logger: Logger;
}

export const loggingPlugin: Plugin<LoggingOptions> = {
  name: 'logging',
  dependencies: ['request-context'],
  async register(server, { logger }) {
    const options: HapiPinoOptions = {
      instance: logger,
      getChildBindings: (request: Request) => ({
        traceId: request.app.traceId,
        ...lambdaBindings(request),
        req: request,
      }),
      customRequestCompleteMessage: (request: Request, responseTime: number) =>
        `${request.method.toUpperCase()} ${request.path} ${request.raw.res.statusCode} ${responseTime}ms`,
      // The request-completed line is enough; the error mapper logs what went wrong, once.
      logEvents: ['onPostStart', 'onPostStop', 'response'],
      logRequestComplete: true,
      logRequestStart: false,
    };
    await server.register({ plugin: hapiPino, options });
  },
};

function lambdaBindings(request: Request): Record<string, string> {
  const { apiRequestId, lambdaRequestId, routeKey, sourceIp, xrayTraceId } = request.app.lambda;
  return Object.fromEntries(
    Object.entries({ apiRequestId, lambdaRequestId, routeKey, sourceIp, xrayTraceId }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
}

// The hapi server: settings, then ONE ordered plugin list; it never listens, so tests inject.
import Hapi, { type Lifecycle, type Server } from '@hapi/hapi';
import Joi from 'joi';
import type { DestinationStream } from 'pino';
import type { Config } from './config.ts';
import { replyWithSuccess } from './lib/envelope.ts';
import { createHttpListener } from './lib/http-listener.ts';
import { createLogger } from './lib/logger.ts';
import { domainModules } from './modules/index.ts';
import { databasePlugin } from './plugins/database.ts';
import { docsPlugin } from './plugins/docs.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { inputGuardPlugin } from './plugins/input-guard.ts';
import { unreadBodyPlugin } from './plugins/unread-body.ts';
import { healthPlugin } from './plugins/health.ts';
import { lambdaEventsPlugin } from './plugins/lambda-events.ts';
import { loggingPlugin } from './plugins/logging.ts';
import { preflightPlugin } from './plugins/preflight.ts';
import { protocolPlugin } from './plugins/protocol.ts';
import { requestContextPlugin } from './plugins/request-context.ts';
import { snapStartPlugin } from './plugins/snapstart.ts';

export interface ServerOptions {
  readonly logStream?: DestinationStream;
}

// The error mapper needs joi's per-field details, not hapi's generic message.
const exposeValidationDetails: Lifecycle.FailAction = (_request, _h, error) => {
  throw error ?? new Error('validation failed without an error');
};

// No query string skips joi (docs/performance.md#throughput-levers); OpenAPI still reads the schema.
const noQueryParameters = Joi.object({});
const refuseQueryParameters: Joi.ObjectSchema = Object.create(noQueryParameters, {
  validateAsync: {
    value: async (query: object, options?: Joi.AsyncValidationOptions): Promise<unknown> =>
      Object.keys(query).length === 0 ? undefined : noQueryParameters.validateAsync(query, options),
  },
}) as Joi.ObjectSchema;

// 80 % of REQUEST_TIMEOUT_MS: a slow body is the client's 408, never the route timeout's 503.
function payloadTimeoutMs(config: Config): number {
  return Math.floor(config.requestTimeoutMs * 0.8);
}

export async function createServer(config: Config, options: ServerOptions = {}): Promise<Server> {
  const server = Hapi.server({
    host: config.host,
    port: config.port,
    listener: createHttpListener(config),
    // The error mapper logs errors once, with the trace id.
    debug: false,
    router: { stripTrailingSlash: true },
    routes: {
      validate: {
        failAction: exposeValidationDetails,
        options: { abortEarly: false },
        query: refuseQueryParameters,
      },
      // Not in prod: tests catch a mismatch, prod saves the per-request cost.
      response: {
        failAction: 'error',
        sample: config.appEnv === 'prod' ? 0 : 100,
        options: { abortEarly: false },
        // hapi would slice envelopes into invalid JSON and answer a bad range with a raw 416.
        ranges: false,
      },
      // protoAction 'error' (default) rejects __proto__ keys; the unread-body plugin bounds a slow body.
      payload: {
        maxBytes: config.payloadMaxBytes,
        allow: 'application/json',
        protoAction: 'error',
        timeout: false,
      },
      timeout: { server: config.requestTimeoutMs },
      cors:
        config.corsOrigins.length > 0
          ? {
              origin: [...config.corsOrigins],
              additionalHeaders: domainModules.flatMap((module) => module.cors?.allowHeaders ?? []),
              additionalExposedHeaders: [
                'x-request-id',
                'Retry-After',
                ...domainModules.flatMap((module) => module.cors?.exposeHeaders ?? []),
              ],
              credentials: false,
            }
          : false,
      security: { hsts: true, xframe: 'deny', noSniff: true, referrer: 'no-referrer', noOpen: true },
    },
  });
  server.app.config = config;
  server.decorate('toolkit', 'success', replyWithSuccess);
  server.validator(Joi);

  await server.register([
    // Cross-cutting first: later plugins name these as dependencies.
    { plugin: requestContextPlugin },
    { plugin: loggingPlugin, options: { logger: createLogger(config, options.logStream) } },
    { plugin: errorsPlugin },
    { plugin: inputGuardPlugin },
    { plugin: unreadBodyPlugin, options: { payloadTimeoutMs: payloadTimeoutMs(config) } },
    { plugin: preflightPlugin },
    { plugin: protocolPlugin },
    { plugin: databasePlugin, options: { config } },
    { plugin: lambdaEventsPlugin },
    { plugin: snapStartPlugin },
    // Before docs: their response hooks run before the error mapper, docs' after it.
    ...domainModules.map((module) => ({ plugin: module.plugin, options: { config } })),
    { plugin: healthPlugin, options: { config } },
    { plugin: docsPlugin, options: { config } },
  ]);

  return server;
}

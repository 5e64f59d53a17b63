// Builds the hapi server: settings, then ONE ordered plugin list. Never listens; index.ts starts it and
// tests inject requests into it.
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
  /** Where log lines go (tests read them back); defaults to stdout. */
  readonly logStream?: DestinationStream;
}

/** Surfaces joi's per-field details to the error mapper instead of hapi's generic message. */
const exposeValidationDetails: Lifecycle.FailAction = (_request, _h, error) => {
  throw error ?? new Error('validation failed without an error');
};

/**
 * `Joi.object({})`, which refuses every query parameter (one error each), except that a request without
 * a query string, the common case, skips joi (its cost per request: docs/performance.md). It
 * stays that joi schema for whatever reads it: the OpenAPI document lists no parameter for it.
 */
const noQueryParameters = Joi.object({});
const refuseQueryParameters: Joi.ObjectSchema = Object.create(noQueryParameters, {
  validateAsync: {
    value: async (query: object, options?: Joi.AsyncValidationOptions): Promise<unknown> =>
      Object.keys(query).length === 0 ? undefined : noQueryParameters.validateAsync(query, options),
  },
}) as Joi.ObjectSchema;

/**
 * A body must have arrived by 80 % of REQUEST_TIMEOUT_MS, so a slow one is the client's 408, never the
 * route timeout's 503.
 */
function payloadTimeoutMs(config: Config): number {
  return Math.floor(config.requestTimeoutMs * 0.8);
}

export async function createServer(config: Config, options: ServerOptions = {}): Promise<Server> {
  const server = Hapi.server({
    host: config.host,
    port: config.port,
    // Keep-alive and headers timeouts (see lib/http-listener.ts).
    listener: createHttpListener(config),
    // hapi must not print errors to the console: the error mapper logs them once, with the trace id.
    debug: false,
    router: { stripTrailingSlash: true },
    routes: {
      validate: {
        failAction: exposeValidationDetails,
        options: { abortEarly: false },
        // Unknown query parameters are rejected unless a route declares its own query schema.
        query: refuseQueryParameters,
      },
      // Responses are validated against their schemas everywhere but prod: a mismatch is a bug that the
      // tests catch, and prod keeps the per-request cost (docs/performance.md).
      response: {
        failAction: 'error',
        sample: config.appEnv === 'prod' ? 0 : 100,
        options: { abortEarly: false },
        // No Range support: hapi would slice envelopes into invalid JSON, and answer a bad range with a
        // raw 416 after the error mapper has run.
        ranges: false,
      },
      // JSON only (415 otherwise); hapi's default protoAction 'error' rejects __proto__ keys (400).
      // The body's time limit is the unread-body plugin's (hapi's own waits for the rest of a slow body).
      payload: {
        maxBytes: config.payloadMaxBytes,
        allow: 'application/json',
        protoAction: 'error',
        timeout: false,
      },
      // A handler still running after this answers 503 with the TIMEOUT code.
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
    // Domain modules (modules/index.ts), before docs: their response hooks run before the error mapper,
    // docs' after it. With API keys required, that strategy is the default unless a route opts out.
    ...domainModules.map((module) => ({ plugin: module.plugin, options: { config } })),
    { plugin: healthPlugin, options: { config } },
    { plugin: docsPlugin, options: { config } },
  ]);

  return server;
}

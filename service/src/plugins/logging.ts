// hapi-pino: one line per request; errors before a request exists go through ClientErrorLog.
import type { Socket } from 'node:net';
import type { Plugin, Request } from '@hapi/hapi';
import hapiPino, { type Options as HapiPinoOptions } from 'hapi-pino';
import type { Logger } from 'pino';
import { answerClientError, answerConnect } from '../lib/client-error-answer.ts';
import { ClientErrorLog } from '../lib/client-error-log.ts';
import { neverThrows } from '../lib/never-throws.ts';

export interface LoggingOptions {
  readonly logger: Logger;
}

export const loggingPlugin: Plugin<LoggingOptions> = {
  name: 'logging',
  dependencies: ['request-context'],
  async register(server, { logger }) {
    await server.register({ plugin: hapiPino, options: hapiPinoOptions(logger) });

    const clientErrors = new ClientErrorLog(logger);
    // The envelope, not hapi's bare "400 Bad Request"; a request in progress stays hapi's.
    const { listener } = server;
    const hapiListeners = listener.listeners('clientError') as ((error: unknown, socket: Socket) => void)[];
    const answerInRequest = (error: unknown, socket: Socket) => {
      for (const hapiListener of hapiListeners) hapiListener.call(listener, error, socket);
    };
    listener.removeAllListeners('clientError');
    listener.on('clientError', (error: Error, socket: Socket) => {
      clientErrors.record(error, socket.remoteAddress);
      answerClientError(error, socket, answerInRequest);
    });
    // Node closes a CONNECT without a word unless someone listens.
    listener.on('connect', (_request: unknown, socket: Socket) => {
      clientErrors.record({ code: 'CONNECT', message: 'CONNECT is not supported' }, socket.remoteAddress);
      answerConnect(socket);
    });
    // Node caches the peer address on first read: read it while the socket is open.
    server.listener.on('connection', readPeerAddress);
    server.ext('onPostStop', () => {
      clientErrors.flush();
    });
  },
};

// Callbacks also run before onRequest (a bad Accept-Encoding): read nothing it sets, never throw.
export function hapiPinoOptions(logger: Logger): HapiPinoOptions {
  return {
    instance: logger,
    getChildBindings: neverThrows(getChildBindings, {}),
    customRequestCompleteMessage: neverThrows(requestCompleteMessage, 'request completed'),
    // The error mapper logs what went wrong, once.
    logEvents: ['onPostStart', 'onPostStop', 'response'],
    logRequestComplete: true,
    logRequestStart: false,
    // hapi would log raw request bytes; ClientErrorLog does. Typed object[], read as { log }.
    ignoredEventTags: { log: ['client'] } as unknown as object[],
  };
}

function requestCompleteMessage(request: Request, responseTime: number): string {
  return `${request.method.toUpperCase()} ${request.path} ${request.raw.res.statusCode} ${responseTime}ms`;
}

function readPeerAddress(socket: Socket): string | undefined {
  return socket.remoteAddress;
}

const LOGGED_LAMBDA_FIELDS = [
  'apiRequestId',
  'lambdaRequestId',
  'routeKey',
  'sourceIp',
  'xrayTraceId',
] as const;

// No spreads: runs on every request. Before onRequest there is no trace id yet; hapi-pino binds again.
function getChildBindings(request: Request): Record<string, unknown> {
  const { traceId, lambda } = request.app as Partial<typeof request.app>;
  const bindings: Record<string, unknown> = { traceId };
  if (lambda !== undefined) {
    for (const field of LOGGED_LAMBDA_FIELDS) {
      const value = lambda[field];
      if (value !== undefined) bindings[field] = value;
    }
  }
  bindings.req = request;
  return bindings;
}

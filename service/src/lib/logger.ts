// Builds the service's pino logger: JSON lines by default, pretty in local development, secrets masked.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config.ts';
import { skipUnreachableRedaction } from './redaction-fast-path.ts';

/** Paths pino masks wherever a request or an error object drags headers into a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'password',
  'apiKey',
  'databaseUrl',
  '*.password',
  '*.apiKey',
  '*.databaseUrl',
  // Node's parser errors carry the raw request bytes (headers, API keys included).
  'err.rawPacket',
  '*.rawPacket',
];

interface SerializableRequest {
  readonly method: string;
  readonly path: string;
}

/** The logger's settings: redaction and the lean serializers. */
export function loggerOptions(config: Config): LoggerOptions {
  return {
    level: config.logLevel,
    base: { env: config.appEnv, version: config.version },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    serializers: {
      // Deliberately lean: method and path only (query strings may carry tokens), never headers.
      req: (request: SerializableRequest) => ({ method: request.method.toUpperCase(), path: request.path }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err,
    },
  };
}

export function createLogger(config: Config, stream?: DestinationStream): Logger {
  const destination =
    stream ??
    (config.logPretty
      ? pino.transport({
          target: 'pino-pretty',
          options: { singleLine: true, translateTime: 'SYS:HH:MM:ss' },
        })
      : // Synchronous: Lambda may freeze the process once a response is out, and an asynchronous write
        // still queued then arrives late or never (pino's docs/asynchronous.md). No slower here either.
        pino.destination({ dest: 1, sync: true }));
  const logger = pino(loggerOptions(config), destination);
  skipUnreachableRedaction(logger, REDACTED_PATHS);
  return logger;
}

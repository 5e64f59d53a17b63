// The service's pino logger: JSON lines, pretty in local development, secrets masked.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config.ts';
import { withNoThrowingFunctions } from './never-throws.ts';
import { skipUnreachableRedaction } from './redaction-fast-path.ts';

const REDACTED_PATHS = [
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

const UNSERIALIZABLE = '[unserializable]';

function serializeRequest(request: { method?: unknown; path?: unknown } | null | undefined) {
  const { method, path } = request ?? {};
  return {
    method: typeof method === 'string' ? method.toUpperCase() : undefined,
    path: typeof path === 'string' ? path : undefined,
  };
}

export function loggerOptions(config: Config): LoggerOptions {
  return {
    level: config.logLevel,
    // Absent keys stay out of the line (JSON.stringify drops undefined).
    base: { env: config.appEnv, version: config.version, functionVersion: config.functionVersion },
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    // Called while a line is written: must never throw.
    serializers: withNoThrowingFunctions(
      {
        // Never headers or query strings: they may carry tokens.
        req: serializeRequest,
        res: (res: { statusCode?: unknown } | null | undefined) => ({
          statusCode: typeof res?.statusCode === 'number' ? res.statusCode : undefined,
        }),
        err: pino.stdSerializers.err,
      },
      UNSERIALIZABLE,
    ),
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
      : // Sync: Lambda may freeze with a write still queued (docs/performance.md#throughput-levers).
        pino.destination({ dest: 1, sync: true }));
  const logger = pino(loggerOptions(config), destination);
  skipUnreachableRedaction(logger, REDACTED_PATHS);
  return logger;
}

// Builds a fresh, non-listening server for a test and stops it (closing its ORM) at teardown.
import { Writable } from 'node:stream';
import type { Server, ServerInjectOptions, ServerInjectResponse } from '@hapi/hapi';
import { loadConfig, type Config } from '../../src/config.ts';
import { createServer } from '../../src/server.ts';
import { OpenApiResponseValidator } from './openapi-responses.ts';
import type { Teardown } from './teardown.ts';

export interface TestServer {
  readonly server: Server;
  readonly config: Config;
  /** Raw log text and parsed lines, when the server was built with `captureLogs`. */
  readonly logs: CapturedLogs;
  inject(options: string | ServerInjectOptions): Promise<ServerInjectResponse>;
  /** Injects and parses the JSON envelope. */
  json<T = Envelope>(
    options: string | ServerInjectOptions,
  ): Promise<{ status: number; body: T; headers: Record<string, unknown> }>;
}

export interface Envelope<T = unknown> {
  success: boolean;
  message: string;
  data: T;
  code?: number;
  errors?: { field: string; message: string }[];
  traceId: string;
}

interface CapturedLogs {
  text(): string;
  lines(): Record<string, unknown>[];
}

export async function buildServer(
  t: Teardown,
  env: Record<string, string>,
  { captureLogs = false }: { captureLogs?: boolean } = {},
): Promise<TestServer> {
  // In-process tests run as inside Lambda (pass-through events, the adapter's headers); pass
  // AWS_LAMBDA_RUNTIME_API: '' for outside. test/tooling/bundle-security.test.ts covers both against the bundle.
  const config = loadConfig({
    APP_ENV: 'test',
    LOG_LEVEL: captureLogs ? 'info' : 'silent',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    ...env,
  });
  const chunks: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const server = await createServer(config, { logStream });
  t.teardown(() => server.stop());
  await server.initialize();

  const logs: CapturedLogs = {
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
  // Every response a test sees must be one the served document describes (see openapi-responses.ts).
  const openapi = await OpenApiResponseValidator.for(server);
  const inject = async (options: string | ServerInjectOptions) => {
    const response = await server.inject(options);
    const violations = openapi.violations(response);
    if (violations.length > 0) {
      throw new Error(`The response disagrees with /openapi.json:\n${violations.join('\n')}`);
    }
    return response;
  };
  return {
    server,
    config,
    logs,
    inject,
    async json<T>(options: string | ServerInjectOptions) {
      const response = await inject(options);
      return {
        status: response.statusCode,
        body: JSON.parse(response.payload) as T,
        headers: response.headers,
      };
    },
  };
}

// The OpenAPI document from the routes alone (no database), for `npm run openapi` and the build.
import { loadConfig } from '../src/config.ts';
import { OPENAPI_PATH } from '../src/plugins/docs.ts';
import { createServer } from '../src/server.ts';

export async function generateOpenApiDocument(): Promise<unknown> {
  const server = await createServer(
    loadConfig({
      DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused',
      LOG_LEVEL: 'silent',
      APP_ENV: 'test',
      ...(process.env.SERVICE_VERSION ? { SERVICE_VERSION: process.env.SERVICE_VERSION } : {}),
    }),
  );
  try {
    const response = await server.inject(OPENAPI_PATH);
    if (response.statusCode !== 200) throw new Error(`${OPENAPI_PATH} answered ${response.statusCode}`);
    return JSON.parse(response.payload) as unknown;
  } finally {
    await server.stop();
  }
}

// `npm run openapi [-- --out file]`: writes the OpenAPI document that the server serves at /openapi.json.
// Builds the server without a database: the spec comes from route definitions alone.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { OPENAPI_PATH } from '../src/plugins/docs.ts';
import { createServer } from '../src/server.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: { out: { type: 'string', default: path.join(repoRoot, 'openapi.json') } },
});

const server = await createServer(
  loadConfig({ DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused', LOG_LEVEL: 'silent', APP_ENV: 'test' }),
);
const response = await server.inject(OPENAPI_PATH);
if (response.statusCode !== 200) throw new Error(`${OPENAPI_PATH} answered ${response.statusCode}`);
await writeFile(values.out, `${JSON.stringify(JSON.parse(response.payload), null, 2)}\n`);
console.log(`Wrote ${values.out}`);

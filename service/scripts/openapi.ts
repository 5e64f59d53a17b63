// `npm run openapi [-- --out file]`: writes the OpenAPI document that the server serves at /openapi.json.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateOpenApiDocument } from '../tools/openapi-document.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: { out: { type: 'string', default: path.join(repoRoot, 'openapi.json') } },
});

await writeFile(values.out, `${JSON.stringify(await generateOpenApiDocument(), null, 2)}\n`);
console.log(`Wrote ${values.out}`);

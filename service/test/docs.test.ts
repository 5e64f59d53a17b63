// The docs list every error code (docs/api.md) and every configuration variable (docs/configuration.md).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ErrorCodes } from '../src/errors/error-codes.ts';

const apiDoc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const configurationDoc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const configSource = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');

t.test('every registry code is in the error table of docs/api.md, with its status and name', async (t) => {
  for (const [name, { code, status }] of Object.entries(ErrorCodes)) {
    t.match(apiDoc, new RegExp(`\\|\\s*${code}\\s*\\|\\s*${status}\\s*\\|\\s*\`${name}\``), name);
  }
});

t.test('every environment variable of the config schema is in docs/configuration.md', async (t) => {
  const variables = [...configSource.matchAll(/^ {2}([A-Z][A-Z0-9_]+): Joi\./gm)].map((m) => m[1] ?? '');
  t.ok(variables.length > 10, `found ${variables.length} variables in the schema`);
  for (const variable of variables) t.match(configurationDoc, `\`${variable}\``, variable);
});

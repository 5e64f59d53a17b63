// The README documents every error code and every configuration variable the service accepts.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ErrorCodes } from '../src/errors/error-codes.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const configSource = readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');

t.test('every registry code is in the README error table, with its status and name', async (t) => {
  for (const [name, { code, status }] of Object.entries(ErrorCodes)) {
    t.match(readme, new RegExp(`\\|\\s*${code}\\s*\\|\\s*${status}\\s*\\|\\s*\`${name}\``), name);
  }
});

t.test('every environment variable of the config schema is documented', async (t) => {
  const variables = [...configSource.matchAll(/^ {2}([A-Z][A-Z0-9_]+): Joi\./gm)].map((m) => m[1] ?? '');
  t.ok(variables.length > 10, `found ${variables.length} variables in the schema`);
  for (const variable of variables) t.match(readme, `\`${variable}\``, variable);
});

// The reference tables of docs/ against the code's own data, both ways: a code or variable added to the
// code and not documented fails here, and so does a documented one the code no longer has.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { environmentSchema } from '../../src/config.ts';
import { errorRegistry } from '../../src/errors/error-codes.ts';
import { API_DOC, withErrorTable } from '../../tools/error-table.ts';
import { readMarkdown, repositoryRoot, tableRows } from '../helpers/markdown.ts';

const apiDoc = readMarkdown(`${repositoryRoot}docs/api.md`);
const configurationDoc = readMarkdown(`${repositoryRoot}docs/configuration.md`);

/** What joi's describe() says of one key; only the parts read here. */
interface KeyDescription {
  flags?: { default?: unknown };
  allow?: unknown[];
}
const schemaKeys = (environmentSchema.describe() as { keys: Record<string, KeyDescription> }).keys;

t.test(
  'the error table of docs/api.md is the error registry (modules included): code, status and name',
  async (t) => {
    const documented = tableRows(apiDoc, 'Code').map((row) => `${row.Code} ${row.HTTP} ${row.Name}`);
    const registry = [...errorRegistry()].map(([name, { code, status }]) => `${code} ${status} ${name}`);
    t.same([...documented].sort(), [...registry].sort());
  },
);

t.test('the error table of docs/api.md is what `npm run docs:errors` writes', async (t) => {
  t.equal(readFileSync(API_DOC, 'utf8'), await withErrorTable(), 'stale: run `npm run docs:errors`');
});

t.test('the variable table of docs/configuration.md lists exactly the config schema keys', async (t) => {
  const documented = tableRows(configurationDoc, 'Variable').map((row) => row.Variable);
  t.same([...documented].sort(), Object.keys(schemaKeys).sort());
});

t.test('each documented default and allowed value is the schema one', async (t) => {
  const rows = new Map(tableRows(configurationDoc, 'Variable').map((row) => [row.Variable, row]));
  for (const [variable, description] of Object.entries(schemaKeys)) {
    const row = rows.get(variable);
    const fallback = description.flags?.default;
    // Non-scalar defaults (CORS_ORIGINS' parsed []) and derived ones (API_KEYS_REQUIRED) are described in words.
    if (['string', 'number', 'boolean'].includes(typeof fallback)) {
      t.equal(row?.Default, String(fallback), `${variable} default`);
    }
    for (const value of description.allow ?? []) {
      t.match(
        row?.Meaning ?? '',
        new RegExp(`\\b${String(value)}\\b`),
        `${variable} allows ${String(value)}`,
      );
    }
  }
});

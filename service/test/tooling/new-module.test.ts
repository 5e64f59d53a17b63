// `npm run new:module` in a copy of the project: its output typechecks, lints, passes its own test (which
// checks each answer against the OpenAPI document) and the module, docs and migration checks.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { copyWorkTree, testFiles } from '../helpers/work-tree-copy.ts';

t.setTimeout(900_000);

const { root, serviceDir, run } = await copyWorkTree(t);
const modulesDir = path.join(serviceDir, 'src/modules');
const before = readdirSync(modulesDir).sort();

t.test('a bad name is refused with the reason, and nothing is written', async (t) => {
  const cases: [string[], RegExp][] = [
    [['Authors'], /not a module name/],
    [['authors_list'], /not a module name/],
    [['api-keys'], /a module "api-keys" already exists/],
    [['index'], /reserved/],
    [['health'], /reserved/],
    [['author'], /reads as singular/],
    [['api-key-usages'], /entity named ApiKeyUsage already exists/],
    [[], /exactly one module name/],
  ];
  for (const [args, reason] of cases) {
    const result = await run('npm', ['run', '--silent', 'new:module', '--', ...args], root);
    t.not(result.code, 0, `${args.join(' ')} fails`);
    t.match(result.output, reason, `${args.join(' ')}: ${reason.source}`);
  }
  t.same(readdirSync(modulesDir).sort(), before, 'no module folder appeared');
});

t.test('npm run new:module -- authors writes a module that passes typecheck, lint and tests', async (t) => {
  const scaffold = await run('npm', ['run', 'new:module', '--', 'authors'], root);
  t.equal(scaffold.code, 0, 'npm run new:module -- authors', { output: scaffold.output });
  if (scaffold.code !== 0) return;

  const written = [
    ...readdirSync(path.join(modulesDir, 'authors')).map((file) => `service/src/modules/authors/${file}`),
    ...readdirSync(path.join(serviceDir, 'src/db/migrations'))
      .filter((file) => file.endsWith('_authors.ts'))
      .map((file) => `service/src/db/migrations/${file}`),
    'service/src/db/migrations/index.ts',
    'service/src/db/migrations/.schema-snapshot.json',
    'service/src/modules/index.ts',
    'service/test/api/authors.test.ts',
  ];
  t.ok(
    written.some((file) => /Migration\d{14}_authors\.ts$/.test(file)),
    'a migration',
  );
  t.ok(existsSync(path.join(root, 'service/test/api/authors.test.ts')), 'a test');
  const again = await run('npm', ['run', 'db:migration:create', '--', '--name', 'again'], root);
  t.match(again.output, /No schema changes/, 'the schema snapshot moved with the migration', {
    output: again.output,
  });

  const typecheck = await run(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'service', '--noEmit'],
    root,
  );
  t.equal(typecheck.code, 0, 'tsc -p service', { output: typecheck.output });

  const eslint = await run(
    process.execPath,
    [path.join(root, 'node_modules/eslint/bin/eslint.js'), ...written],
    root,
  );
  t.equal(eslint.code, 0, 'eslint', { output: eslint.output });
  const prettier = await run(
    process.execPath,
    [path.join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', ...written],
    root,
  );
  t.equal(prettier.code, 0, 'prettier --check', { output: prettier.output });
  // Unused files, exports and dependencies across the project, as `npm run lint` checks them.
  const knip = await run(
    process.execPath,
    [path.join(root, 'node_modules/knip/bin/knip.js'), '--no-progress'],
    root,
  );
  t.equal(knip.code, 0, 'knip', { output: knip.output });

  const tests = [
    'test/api/authors.test.ts',
    ...testFiles(serviceDir, ['modules.test.ts', 'docs.test.ts', 'migrations.test.ts', 'openapi.test.ts']),
  ];
  t.equal(tests.length, 5, tests.join(' '));
  const tap = await run(
    'npm',
    ['exec', '--offline', '--', 'tap', '--disable-coverage', ...tests],
    serviceDir,
  );
  t.equal(tap.code, 0, `tap ${tests.join(' ')}`, { output: tap.output });
});

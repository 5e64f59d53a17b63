// `npm run new:module` (plain, and with --relation) in a copy of the project: its output typechecks, lints,
// passes its own tests (each answer checked against the OpenAPI document) and the module, docs and migration checks.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { copyWorkTree, testFiles } from '../helpers/work-tree-copy.ts';

t.setTimeout(900_000);

const { root, serviceDir, run } = await copyWorkTree(t);
const modulesDir = path.join(serviceDir, 'src/modules');
const before = readdirSync(modulesDir).sort();

/** Every file of the copy with a hash of its content, the folders .gitignore lists aside. */
function contents(): Map<string, string> {
  const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter(
    (entry) =>
      entry.isFile() &&
      !/(?:^|\/)(?:node_modules|\.git|\.data|\.tap|\.bench|dist|coverage)(?:\/|$)/.test(
        path.relative(root, entry.parentPath),
      ),
  );
  return new Map(
    files.map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return [path.relative(root, file), createHash('sha256').update(readFileSync(file)).digest('hex')];
    }),
  );
}

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
    [['authors', '--relation', 'nope'], /no module of that name/],
    [['reviews', '--relation', 'api-keys'], /no POST \/v1\/api-keys/],
  ];
  for (const [args, reason] of cases) {
    const result = await run('npm', ['run', '--silent', 'new:module', '--', ...args], root);
    t.not(result.code, 0, `${args.join(' ')} fails`);
    t.match(result.output, reason, `${args.join(' ')}: ${reason.source}`);
  }
  t.same(readdirSync(modulesDir).sort(), before, 'no module folder appeared');
});

t.test(
  'new:module writes modules (one related to another) that pass typecheck, lint and tests',
  async (t) => {
    // Related to books while the example exists; to the module just written once it was removed.
    const target = existsSync(path.join(root, 'service/src/modules', 'books')) ? 'books' : 'publishers';
    const untouched = contents();
    for (const args of [['publishers'], ['authors', '--relation', target]]) {
      const scaffold = await run('npm', ['run', 'new:module', '--', ...args], root);
      t.equal(scaffold.code, 0, `npm run new:module -- ${args.join(' ')}`, { output: scaffold.output });
      if (scaffold.code !== 0) return;
    }

    // What adding a module touches: its folder, its list entry, its migration (with the generator's index
    // and snapshot) and its test. The books folder stays as it was, relation included.
    const after = contents();
    const changed = [...after].filter(([file, hash]) => untouched.get(file) !== hash).map(([file]) => file);
    const migrations = 'service/src/db/migrations/';
    const other = changed.filter(
      (file) =>
        !/^service\/src\/modules\/(?:publishers|authors)\//.test(file) &&
        !new RegExp(`^${migrations}Migration\\d{14}_(?:publishers|authors)\\.ts$`).test(file),
    );
    t.same(
      other.sort(),
      [
        `${migrations}.schema-snapshot.json`,
        `${migrations}index.ts`,
        'service/src/modules/index.ts',
        'service/test/api/authors.test.ts',
        'service/test/api/publishers.test.ts',
      ],
      'nothing else changed',
    );
    t.equal(
      changed.filter((file) => file.startsWith(migrations + 'Migration')).length,
      2,
      'one migration each',
    );
    t.same(
      [...untouched.keys()].filter((file) => !after.has(file)),
      [],
      'nothing was deleted',
    );
    const written = changed;

    const authorsMigration = changed.find((file) => file.endsWith('_authors.ts')) ?? '';
    const sql = readFileSync(path.join(root, authorsMigration), 'utf8');
    t.match(
      sql,
      new RegExp(`create table "authors_${target}"`),
      'the join table is created with the authors',
    );
    // A book's purge (a hard delete) must not be refused because an author still lists it.
    t.match(
      sql,
      new RegExp(`foreign key \\("\\w+_id"\\) references "${target}" \\("id"\\)[^;]*on delete cascade`),
    );

    const again = await run('npm', ['run', 'db:migration:create', '--', '--name', 'again'], root);
    t.match(again.output, /No schema changes/, 'the schema snapshot moved with the migrations', {
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

    const checks = ['modules.test.ts', 'docs.test.ts', 'migrations.test.ts', 'openapi.test.ts'];
    const tests = [
      'test/api/publishers.test.ts',
      'test/api/authors.test.ts',
      ...testFiles(serviceDir, checks),
    ];
    t.same(new Set(tests.slice(2).map((file) => path.basename(file))), new Set(checks), tests.join(' '));
    const tap = await run(
      'npm',
      ['exec', '--offline', '--', 'tap', '--disable-coverage', ...tests],
      serviceDir,
    );
    t.equal(tap.code, 0, `tap ${tests.join(' ')}`, { output: tap.output });
  },
);

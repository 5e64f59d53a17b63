// docs/development.md's "Remove the books example", followed in a copy of the project after `npm run
// new:module -- authors`: the service still typechecks and lints, and the checks that remain pass.
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { copyWorkTree, testFiles } from '../helpers/work-tree-copy.ts';

t.setTimeout(900_000);

const { root, serviceDir, run, git } = await copyWorkTree(t);

t.test('after the documented steps, typecheck, lint and the remaining checks pass', async (t) => {
  // The comments check reads the tracked files, as in a clone.
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'clone');
  const scaffold = await run('npm', ['run', 'new:module', '--', 'authors'], root);
  t.equal(scaffold.code, 0, 'npm run new:module -- authors', { output: scaffold.output });

  // 1. The folder and its two lines in the module list.
  git('rm', '-r', '-q', 'service/src/modules/books');
  const list = path.join(serviceDir, 'src/modules/index.ts');
  await writeFile(
    list,
    (await readFile(list, 'utf8'))
      .replace("import { booksModule } from './books/index.ts';\n", '')
      .replace(/\bbooksModule, /, ''),
  );
  t.notMatch(await readFile(list, 'utf8'), /books/, 'the list no longer names books');

  // 2. A migration that drops the tables, from the generator.
  const drop = await run('npm', ['run', 'db:migration:create', '--', '--name', 'drop_books'], root);
  t.equal(drop.code, 0, 'db:migration:create -- --name drop_books', { output: drop.output });
  const migrations = path.join(serviceDir, 'src/db/migrations');
  const dropFile = readdirSync(migrations).find((file) => file.endsWith('_drop_books.ts'));
  if (dropFile === undefined) return t.fail('no drop_books migration');
  const dropPath = path.join(migrations, dropFile);
  const dropSource = await readFile(dropPath, 'utf8');
  t.match(dropSource, /drop table if exists "books"/);
  t.match(dropSource, /drop table if exists "book_covers"/);
  await writeFile(dropPath, dropSource.replaceAll('\\$', '$'));

  // 3. The error table's rows; the scripts of what step 4 deletes (covers bench, image test, seed).
  const apiDoc = path.join(root, 'docs/api.md');
  const rows = (await readFile(apiDoc, 'utf8')).split('\n');
  await writeFile(apiDoc, rows.filter((row) => !/^\| \d+ .*`BOOK_/.test(row)).join('\n'));
  const manifest = path.join(serviceDir, 'package.json');
  const scripts = (await readFile(manifest, 'utf8'))
    .split('\n')
    .filter((line) => !/"(?:bench:covers|test:image|db:seed)":/.test(line));
  await writeFile(manifest, scripts.join('\n'));

  // 4. What imports books.
  const importers = git(
    'grep',
    '-l',
    '-E',
    'modules/books|helpers/isbn',
    '--',
    'service/test',
    'service/bench',
    'service/scripts',
  )
    .split('\n')
    .filter((file) => file !== '');
  t.ok(importers.length > 0, `${String(importers.length)} files import books`);
  git('rm', '-q', ...importers);
  git('add', '-A');

  const typecheck = await run(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'service', '--noEmit'],
    root,
  );
  t.equal(typecheck.code, 0, 'tsc -p service', { output: typecheck.output });
  const changed = ['service/src/modules/index.ts', `service/src/db/migrations/${dropFile}`];
  const eslint = await run(
    process.execPath,
    [path.join(root, 'node_modules/eslint/bin/eslint.js'), ...changed],
    root,
  );
  t.equal(eslint.code, 0, 'eslint', { output: eslint.output });
  const prettier = await run(
    process.execPath,
    [path.join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', 'docs/api.md', ...changed],
    root,
  );
  t.equal(prettier.code, 0, 'prettier --check', { output: prettier.output });

  const tests = testFiles(serviceDir, [
    'authors.test.ts',
    'modules.test.ts',
    'docs.test.ts',
    'migrations.test.ts',
    'comments.test.ts',
    'config.test.ts',
  ]);
  t.equal(tests.length, 6, tests.join(' '));
  const tap = await run(
    'npm',
    ['exec', '--offline', '--', 'tap', '--disable-coverage', ...tests],
    serviceDir,
  );
  t.equal(tap.code, 0, `tap ${tests.join(' ')}`, { output: tap.output });
});

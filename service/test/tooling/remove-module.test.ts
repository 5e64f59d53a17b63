// docs/development.md's "Remove the books example" in a copy of the project, after `npm run new:module --
// authors`: `npm run remove:module -- books`, then typecheck, lint and the tests that remain pass.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { copyWorkTree, testFiles } from '../helpers/work-tree-copy.ts';

t.setTimeout(900_000);

// The guide's proof holds while the example is there; in a project that removed it, nothing is left to prove.
async function proveRemoval(): Promise<void> {
  const { root, serviceDir, run, git } = await copyWorkTree(t);

  /** knip's findings, one line each, without its headings. */
  const findings = (output: string) =>
    output
      .split('\n')
      .map((line) =>
        line
          .trim()
          .replace(/:\d+:\d+/g, '')
          .replace(/\s+/g, ' '),
      )
      .filter((line) => line !== '' && !line.startsWith('>') && !/^Unused|^Unlisted|^Duplicate/.test(line));

  t.test('after remove:module, typecheck, lint and the remaining tests pass', async (t) => {
    // The comments check and the contract mark's release read the tracked files, as in a clone.
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '-q', '-m', 'clone');
    const scaffold = await run('npm', ['run', 'new:module', '--', 'authors'], root);
    t.equal(scaffold.code, 0, 'npm run new:module -- authors', { output: scaffold.output });

    // What knip finds before the removal: the removal must add nothing to it.
    const knipBefore = findings((await run('npm', ['run', 'knip'], root)).output);
    const removal = await run('npm', ['run', 'remove:module', '--', 'books'], root);
    t.equal(removal.code, 0, 'npm run remove:module -- books', { output: removal.output });
    git('add', '-A');

    const left = await run(
      'git',
      [
        'grep',
        '-l',
        '-E',
        'modules/books|helpers/isbn',
        '--',
        'service',
        ':!service/test/tooling/remove-module.test.ts',
      ],
      root,
    );
    t.equal(left.output, '', 'nothing imports books any more');
    t.notMatch(readFileSync(path.join(serviceDir, 'src/modules/index.ts'), 'utf8'), /books/);
    t.notMatch(readFileSync(path.join(root, 'docs/api.md'), 'utf8'), /\| `BOOK_/, 'its error-table rows');
    t.notMatch(readFileSync(path.join(serviceDir, 'package.json'), 'utf8'), /bench:covers|scripts\/seed\.ts/);

    const migrations = path.join(serviceDir, 'src/db/migrations');
    const dropFile = readdirSync(migrations).find((file) => file.endsWith('_drop_books.ts'));
    if (dropFile === undefined) return t.fail('no drop_books migration');
    const drop = readFileSync(path.join(migrations, dropFile), 'utf8');
    t.match(drop, /drop table if exists "books"/);
    t.match(drop, /drop table if exists "book_covers"/);
    t.match(drop, /static readonly contract: ContractStep/, 'marked as a contract step');

    const typecheck = await run(
      process.execPath,
      [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'service', '--noEmit'],
      root,
    );
    t.equal(typecheck.code, 0, 'tsc -p service', { output: typecheck.output });
    const knip = await run('npm', ['run', 'knip'], root);
    const added = findings(knip.output).filter((finding) => !knipBefore.includes(finding));
    t.same(added, [], 'npm run knip: the removal leaves nothing unused', { output: knip.output });
    const lintMigrations = await run('npm', ['run', 'lint:migrations', '-w', 'service'], root);
    t.equal(lintMigrations.code, 0, 'npm run lint:migrations', { output: lintMigrations.output });
    const changed = git(
      'status',
      '--porcelain',
      '--',
      'service/src',
      'docs',
      'package.json',
      'service/package.json',
    )
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('D '))
      .map((line) => line.slice(3));
    const eslint = await run(
      process.execPath,
      [
        path.join(root, 'node_modules/eslint/bin/eslint.js'),
        ...changed.filter((file) => file.endsWith('.ts')),
      ],
      root,
    );
    t.equal(eslint.code, 0, 'eslint', { output: eslint.output });
    const prettier = await run(
      process.execPath,
      [path.join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', ...changed],
      root,
    );
    t.equal(prettier.code, 0, 'prettier --check', { output: prettier.output });

    // The new module's, the registry and docs checks, a fresh database through the drop, and cross-cutting
    // tests that used books routes before.
    const tests = testFiles(serviceDir, [
      'authors.test.ts',
      'modules.test.ts',
      'docs.test.ts',
      'migrations.test.ts',
      'errors.test.ts',
      'input-guard.test.ts',
      'migration-lint.test.ts',
      'database-pinning.test.ts',
    ]);
    t.equal(tests.length, 8, tests.join(' '));
    const tap = await run(
      'npm',
      ['exec', '--offline', '--', 'tap', '--disable-coverage', ...tests],
      serviceDir,
    );
    t.equal(tap.code, 0, `tap ${tests.join(' ')}`, { output: tap.output });
  });
}

if (existsSync(path.join(import.meta.dirname, '../../src/modules/books/index.ts'))) await proveRemoval();
else t.plan(0, 'the books example is removed already');

// docs/development.md's "Remove the books example", followed in a copy of the project after `npm run
// new:module -- authors`: the service still typechecks and lints, and the checks that remain pass.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';

t.setTimeout(900_000);

const repoRoot = path.resolve(import.meta.dirname, '../../..');
// The outer tap's hooks and reporter variables would take over the runs inside the copy.
const env = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(?:_?TAP|NODE_OPTIONS$|NODE_V8_COVERAGE$)/i.test(name)),
  ),
  // The copy's development database (the migration generator's), away from a running `npm run dev`.
  EMBEDDED_POSTGRES_PORT: String(await freePort()),
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Run {
  code: number;
  output: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** The tracked and new files of this work tree (no node_modules, no build output), node_modules linked. */
async function copyWorkTree(): Promise<string> {
  const parent = await mkdtemp(path.join(tmpdir(), 'new-module-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  // The test databases run as the postgres OS user when this runs as root.
  await chmod(parent, 0o755);
  const root = path.join(parent, 'clone');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file !== '' && existsSync(path.join(repoRoot, file)));
  for (const file of files) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await cp(path.join(repoRoot, file), path.join(root, file), { verbatimSymlinks: true });
  }
  for (const folder of ['node_modules', 'service/node_modules', 'infrastructure/node_modules']) {
    if (existsSync(path.join(repoRoot, folder)))
      await symlink(path.join(repoRoot, folder), path.join(root, folder));
  }
  return root;
}

/** Every test file of that name under service/test/, wherever the suite keeps it. */
function testFiles(serviceDir: string, names: string[]): string[] {
  const found = (readdirSync(path.join(serviceDir, 'test'), { recursive: true }) as string[]).filter((file) =>
    names.includes(path.basename(file)),
  );
  return found.map((file) => path.join('test', file));
}

const root = await copyWorkTree();
const serviceDir = path.join(root, 'service');
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env, encoding: 'utf8' });

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

// `npm run new:module` in a copy of the project: its output typechecks, lints, passes its own test (which
// checks each answer against the OpenAPI document) and the module, docs and migration checks.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
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

// `npm run rename` on a copy of the repository: no trace of the old name, and the copy still typechecks and
// passes the infrastructure tests that derive names and the resource graph from the project name.
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}
async function settle(running: Promise<{ stdout: string; stderr: string }>): Promise<Outcome> {
  try {
    return { code: 0, ...(await running) };
  } catch (error) {
    return error as Outcome;
  }
}
const repoRoot = path.resolve(import.meta.dirname, '../../..');
// A realistic name of the longest length the command accepts.
const NEW_NAME = 'acme-books-api';
const MINUTES = 60_000;
t.setTimeout(15 * MINUTES);

async function copyRepository(): Promise<string> {
  const parent = await mkdtemp(path.join(tmpdir(), 'rename-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const root = path.join(parent, 'clone');
  const files = execFileSync('git', ['ls-files', '-z'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file !== '' && existsSync(path.join(repoRoot, file)));
  for (const file of files) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await cp(path.join(repoRoot, file), path.join(root, file));
  }
  for (const folder of ['.', 'service', 'infrastructure']) {
    const modules = path.join(repoRoot, folder, 'node_modules');
    if (existsSync(modules)) await symlink(modules, path.join(root, folder, 'node_modules'));
  }
  await run('git', ['init', '-q'], { cwd: root });
  await run('git', ['add', '-A'], { cwd: root });
  return root;
}

// The inner tap run must not inherit this run's settings (node-args, coverage, reporter).
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^_?TAP|^NODE_OPTIONS$/i.test(key)),
);

const oldName = /^name:\s*(\S+)/m.exec(await readFile(path.join(repoRoot, 'Pulumi.yaml'), 'utf8'))?.[1] ?? '';
const root = await copyRepository();

t.test('invalid names are refused with a reason, and nothing changes', async (t) => {
  for (const [name, reason] of [
    ['My-Api', 'lower-case'],
    ['9api', 'starting with a letter'],
    ['api--x', 'single dashes'],
    ['acme-orders-api', 'AWS name limits'],
  ] as const) {
    const result = await settle(run(process.execPath, ['service/scripts/rename.ts', name], { cwd: root }));
    t.match(result, { code: 1, stderr: reason }, name);
  }
  t.match(await readFile(path.join(root, 'Pulumi.yaml'), 'utf8'), `name: ${oldName}\n`);
});

t.test(`renamed to ${NEW_NAME}: no trace of the old name, typecheck and name tests pass`, async (t) => {
  const { stdout } = await run(process.execPath, ['service/scripts/rename.ts', NEW_NAME], { cwd: root });
  t.match(stdout, `Renamed "${oldName}" to "${NEW_NAME}"`);
  t.match(await readFile(path.join(root, 'Pulumi.yaml'), 'utf8'), `name: ${NEW_NAME}\n`);
  const left = await settle(run('git', ['grep', '-l', '-F', oldName], { cwd: root }));
  t.same(left.stdout.split('\n').filter(Boolean), [], `no file mentions ${oldName}`);
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  for (const project of ['service', 'infrastructure']) {
    await t.resolves(
      run(process.execPath, [tsc, '-p', project, '--noEmit'], { cwd: root }),
      `tsc -p ${project}`,
    );
  }
  const tap = path.join(root, 'node_modules/tap/dist/esm/run.mjs');
  const tests = await settle(
    run(
      process.execPath,
      [tap, '--disable-coverage', 'test/program-names.test.ts', 'test/program-dev.test.ts'],
      { cwd: path.join(root, 'infrastructure'), env: cleanEnv, maxBuffer: 64 * 1024 * 1024 },
    ),
  );
  t.match(
    tests.stdout,
    /# \{ total: \d+, pass: \d+ \}/,
    `infrastructure tests pass:\n${tests.stdout.slice(-4000)}`,
  );
});

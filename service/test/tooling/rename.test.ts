// `npm run rename` on a copy of the repository: no trace of the old name, and the copy still typechecks and
// passes the infrastructure tests that derive names and the resource graph from the project name.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { copyWorkTree } from '../helpers/work-tree-copy.ts';

// A realistic name of the longest length the command accepts.
const NEW_NAME = 'acme-books-api';
t.setTimeout(15 * 60_000);

const { root, run, git } = await copyWorkTree(t);
// `git grep` below reads the copy as a clone.
git('init', '-q');
git('add', '-A');
const oldName = /^name:\s*(\S+)/m.exec(await readFile(path.join(root, 'Pulumi.yaml'), 'utf8'))?.[1] ?? '';

t.test('invalid names are refused with a reason, and nothing changes', async (t) => {
  for (const [name, reason] of [
    ['My-Api', 'lower-case'],
    ['9api', 'starting with a letter'],
    ['api--x', 'single dashes'],
    ['acme-orders-api', 'AWS name limits'],
  ] as const) {
    t.match(
      await run(process.execPath, ['service/scripts/rename.ts', name]),
      { code: 1, output: reason },
      name,
    );
  }
  t.match(await readFile(path.join(root, 'Pulumi.yaml'), 'utf8'), `name: ${oldName}\n`);
});

t.test(`renamed to ${NEW_NAME}: no trace of the old name, typecheck and name tests pass`, async (t) => {
  const renamed = await run(process.execPath, ['service/scripts/rename.ts', NEW_NAME]);
  t.match(renamed, { code: 0, output: `Renamed "${oldName}" to "${NEW_NAME}"` });
  t.match(await readFile(path.join(root, 'Pulumi.yaml'), 'utf8'), `name: ${NEW_NAME}\n`);
  const left = await run('git', ['grep', '-l', '-F', oldName]);
  t.same(left.output.split('\n').filter(Boolean), [], `no file mentions ${oldName}`);
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  for (const project of ['service', 'infrastructure']) {
    t.match(await run(process.execPath, [tsc, '-p', project, '--noEmit']), { code: 0 }, `tsc -p ${project}`);
  }
  const tap = path.join(root, 'node_modules/tap/dist/esm/run.mjs');
  const tests = await run(
    process.execPath,
    [tap, '--disable-coverage', 'test/program-names.test.ts', 'test/program-dev.test.ts'],
    path.join(root, 'infrastructure'),
  );
  t.equal(tests.code, 0, 'infrastructure tests pass', { output: tests.output.slice(-4000) });
  t.match(tests.output, /# \{ total: \d+, pass: \d+ \}/);
});

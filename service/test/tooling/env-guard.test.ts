// The guard every test process loads (helpers/env-guard.ts, tap's node-arg): a file that leaves
// process.env changed fails, naming the variables but never their values.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';

const guard = new URL('../helpers/env-guard.ts', import.meta.url).href;

/** Runs `script` as a test file would run, with the guard loaded first. */
async function runGuarded(script: string): Promise<{ code: number; stderr: string }> {
  return promisify(execFile)(process.execPath, [
    `--import=${guard}`,
    '--input-type=module',
    '-e',
    script,
  ]).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (error: unknown) => {
      const failed = error as { code: number; stderr: string };
      return { code: failed.code, stderr: failed.stderr };
    },
  );
}

t.test('a variable set and left behind fails the file, named without its value', async (t) => {
  const { code, stderr } = await runGuarded("process.env.LEFT_BEHIND = 'secret-value-9d2e';");
  t.equal(code, 1);
  t.match(stderr, /left process\.env changed \(LEFT_BEHIND\)/);
  t.notMatch(stderr, /secret-value-9d2e/);
});

t.test('a variable deleted, or changed, fails the file too', async (t) => {
  t.equal((await runGuarded('delete process.env.PATH;')).code, 1, 'deleted');
  t.equal((await runGuarded("process.env.PATH = '/nowhere';")).code, 1, 'changed');
});

t.test('a variable set and restored, or one MikroORM sets itself, passes', async (t) => {
  const restored = "process.env.FOR_A_WHILE = '1'; delete process.env.FOR_A_WHILE;";
  t.same(await runGuarded(restored), { code: 0, stderr: '' });
  t.same(await runGuarded("process.env.MIKRO_ORM_COLORS = 'false';"), { code: 0, stderr: '' });
});

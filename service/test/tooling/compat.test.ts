// npm run test:compat's own answers that need no install: usage, an unknown ref, tests the previous release
// lacks. The real run (npm ci, the previous release's suite) is a CI job of its own, never part of npm test.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';

const SERVICE = path.resolve(import.meta.dirname, '../..');

function compat(...args: string[]) {
  const result = spawnSync(process.execPath, ['scripts/compat.ts', ...args], {
    cwd: SERVICE,
    encoding: 'utf8',
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

t.test('no ref: the usage, exit 2', async (t) => {
  const { code, output } = compat();
  t.equal(code, 2);
  t.match(output, /Usage: npm run test:compat -- <previous-ref>/);
});

t.test('a ref git does not know: exit 2, naming it', async (t) => {
  const { code, output } = compat('no-such-ref-anywhere');
  t.equal(code, 2);
  t.match(output, /no-such-ref-anywhere/);
});

t.test('tests the previous release does not have: exit 2 before installing anything', async (t) => {
  const { code, output } = compat('HEAD', '--always', '--tests', 'test/no-such-folder');
  t.equal(code, 2);
  t.match(output, /The previous release has no test\/no-such-folder: name its API tests with --tests/);
  t.notMatch(output, /npm ci/);
});

// `npm run openapi:types` writes generated files at the repository root; `npm run lint` must still pass
// afterwards (generated output is not linted).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import t from 'tap';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const GENERATED = ['openapi.json', 'openapi.d.ts'];

t.test('the generated openapi.d.ts passes ESLint and Prettier as `npm run lint` runs them', async (t) => {
  // Remove only what this test made: a developer's own generated files stay.
  const made = GENERATED.filter((file) => !existsSync(path.join(repoRoot, file)));
  t.teardown(async () => {
    for (const file of made) await rm(path.join(repoRoot, file), { force: true });
  });
  await run('npm', ['run', 'openapi:types', '-w', 'service'], { cwd: repoRoot });
  t.ok(existsSync(path.join(repoRoot, 'openapi.d.ts')), 'generated');

  const results = await new ESLint({ cwd: repoRoot }).lintFiles(['openapi.d.ts']);
  const problems = results.flatMap((result) =>
    result.messages.filter((message) => message.severity === 2).map((message) => message.message),
  );
  t.same(problems, [], 'no ESLint errors');

  const prettier = path.join(repoRoot, 'node_modules/.bin/prettier');
  const checked = await run(prettier, ['--check', ...GENERATED], { cwd: repoRoot }).then(
    () => 0,
    (error: unknown) => (error as { code?: number }).code ?? 1,
  );
  t.equal(checked, 0, 'prettier --check passes');
});

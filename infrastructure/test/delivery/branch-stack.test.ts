// The branch → stack mapping, as a module and as the CLI the workflows call from the repository root.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { BRANCH_STACKS, isPreviewStack, stackForBranch } from '../../branch-stack.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const PREVIEW_NAME = /^preview-(?:[a-z0-9]+-)*[0-9a-f]{6}$/;
/** `preview-` plus the 20-character budget (slug, `-`, hash) that keeps AWS resource names under their limits. */
const MAX_STACK_LENGTH = 'preview-'.length + 20;

/** `preview-<slug>-<6 hex>`: the readable part is asserted, the hash only by shape. */
function previewOf(slug: string): RegExp {
  return new RegExp(`^preview-${slug}-[0-9a-f]{6}$`);
}

void t.test('long-lived branches map to their stacks', (t) => {
  t.equal(stackForBranch('main'), 'prod');
  t.equal(stackForBranch('development'), 'dev');
  t.same(BRANCH_STACKS, { main: 'prod', development: 'dev' });
  t.ok(Object.isFrozen(BRANCH_STACKS));
  t.end();
});

void t.test('a full ref and surrounding whitespace are accepted', (t) => {
  t.equal(stackForBranch('refs/heads/main'), 'prod');
  t.equal(stackForBranch('refs/heads/development'), 'dev');
  t.equal(stackForBranch('  main\n'), 'prod');
  t.equal(stackForBranch('refs/heads/feature/login'), stackForBranch('feature/login'));
  t.end();
});

void t.test('names are matched exactly: look-alikes get preview stacks', (t) => {
  t.match(stackForBranch('Main'), previewOf('main'));
  t.match(stackForBranch('main2'), previewOf('main2'));
  t.match(stackForBranch('release/main'), previewOf('release-main'));
  t.match(stackForBranch('dev'), previewOf('dev'));
  t.end();
});

void t.test('branches that sanitise to the same slug still get different stacks', (t) => {
  // Two pull requests must never share (and destroy) one preview stack.
  const groups = [
    ['feature/login', 'feature-login', 'feature_login', 'Feature/Login', 'feature//login'],
    ['a.b', 'a-b', 'a/b'],
  ];
  for (const group of groups) {
    const stacks = group.map(stackForBranch);
    t.equal(new Set(stacks).size, group.length, `${group.join(', ')} → ${stacks.join(', ')}`);
  }
  t.end();
});

void t.test('feature branches with odd characters become safe preview names', (t) => {
  const cases: [string, string][] = [
    ['feature/login', 'feature-login'],
    ['fix/ABC-123', 'fix-abc-123'],
    ['user@host#1', 'user-host-1'],
    ['--weird__name--', 'weird-name'],
    ['a.b.c', 'a-b-c'],
    ['dependabot/npm/x', 'dependabot-np'],
  ];
  for (const [branch, slug] of cases) t.match(stackForBranch(branch), previewOf(slug), branch);

  for (const branch of ['日本語', '///', '🚀', '---']) {
    const stack = stackForBranch(branch);
    t.match(stack, /^preview-[0-9a-f]{6}$/, `${branch} → a hash-only name`);
  }
  t.not(stackForBranch('日本語'), stackForBranch('🚀'), 'hash-only names still differ');
  t.end();
});

void t.test('long names are bounded, deterministic and distinct', (t) => {
  const a = 'feature/a-really-long-branch-name-for-the-login-page';
  const b = 'feature/a-really-long-branch-name-for-the-logout-page';
  const stackA = stackForBranch(a);
  const stackB = stackForBranch(b);
  t.ok(stackA.length <= MAX_STACK_LENGTH, `${stackA} is at most ${MAX_STACK_LENGTH} characters`);
  t.ok(stackB.length <= MAX_STACK_LENGTH, `${stackB} is at most ${MAX_STACK_LENGTH} characters`);
  t.match(stackA, PREVIEW_NAME);
  t.match(stackB, PREVIEW_NAME);
  t.not(stackA, stackB, 'a shared prefix does not collide');
  t.equal(stackForBranch(a), stackA, 'same branch, same stack');

  // The slug keeps 13 characters, the hash of the full name tells the rest apart.
  t.match(stackForBranch('abcdefghij0123456789'), previewOf('abcdefghij012'));
  t.not(stackForBranch('abcdefghij0123456789'), stackForBranch('abcdefghij0123456789x'));

  for (let length = 1; length <= 120; length += 7) {
    const stack = stackForBranch(`Feature/${'x_Y-'.repeat(length)}`);
    t.ok(stack.length <= MAX_STACK_LENGTH && PREVIEW_NAME.test(stack), `length ${length}: ${stack}`);
  }
  t.end();
});

void t.test('an empty branch is an error', (t) => {
  for (const branch of ['', '   ', 'refs/heads/', '\n']) {
    t.throws(() => stackForBranch(branch), /empty/, JSON.stringify(branch));
  }
  t.end();
});

void t.test('isPreviewStack tells preview stacks from long-lived ones', (t) => {
  t.equal(isPreviewStack('prod'), false);
  t.equal(isPreviewStack('dev'), false);
  t.equal(isPreviewStack(stackForBranch('feature/x')), true);
  t.equal(isPreviewStack(stackForBranch('日本語')), true);
  t.end();
});

const execFileAsync = promisify(execFile);

/** Exactly the workflows' call: `node infrastructure/branch-stack.ts <branch>` from the repository root. */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['infrastructure/branch-stack.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

void t.test('CLI: prints the stack for the branch argument', async (t) => {
  t.same(await cli(['main']), { code: 0, stdout: 'prod\n', stderr: '' });
  t.same(await cli(['development']), { code: 0, stdout: 'dev\n', stderr: '' });
  t.same(await cli(['refs/heads/main']), { code: 0, stdout: 'prod\n', stderr: '' });
  t.same(await cli(['feature/Login Page']), {
    code: 0,
    stdout: `${stackForBranch('feature/Login Page')}\n`,
    stderr: '',
  });
  t.match((await cli(['feature/Login Page'])).stdout.trim(), previewOf('feature-login'));
});

void t.test('CLI: falls back to GITHUB_REF_NAME', async (t) => {
  t.same(await cli([], { GITHUB_REF_NAME: 'development' }), { code: 0, stdout: 'dev\n', stderr: '' });
  t.same(await cli(['main'], { GITHUB_REF_NAME: 'development' }), { code: 0, stdout: 'prod\n', stderr: '' });
});

void t.test('CLI: an empty branch fails loudly and prints no stack', async (t) => {
  const empty = await cli(['']);
  t.not(empty.code, 0);
  t.equal(empty.stdout, '');
  t.match(empty.stderr, /branch name is empty/);

  const missing = await cli([]);
  t.not(missing.code, 0);
  t.equal(missing.stdout, '');
});

// The scripts that gate the workflows, run as the workflows run them: the CI check of a manual redeploy (fake
// GitHub API), the stack config check (scratch stack files) and the IAM template renderer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t, { type Test } from 'tap';
import { runScript, type RunResult } from '../fixtures/run-script.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

function run(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = ROOT,
): Promise<RunResult> {
  return runScript(resolve(ROOT, '.github/scripts', script), args, env, cwd);
}

function scratch(t: Test, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gate-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

// ---- ci-passed.mjs ---------------------------------------------------------------------------------------

const SHA = 'a'.repeat(40);
const JOBS = ['--job', 'Lint, typecheck, test', '--job', 'Image smoke test'];

interface FakeRun {
  id: number;
  head_sha: string;
  jobs: { name: string; conclusion: string | null }[];
}

/** GitHub's two endpoints (workflow runs of a workflow, jobs of a run), recording the requests. */
async function fakeGitHub(t: Test, runs: FakeRun[], status = 200) {
  const seen: { url: string; auth: string | undefined }[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    seen.push({ url: `${url.pathname}${url.search}`, auth: req.headers.authorization });
    const jobs = /^\/repos\/o\/r\/actions\/runs\/(\d+)\/jobs$/.exec(url.pathname);
    let body: unknown = { message: 'Not Found' };
    if (status !== 200) body = { message: 'Bad credentials' };
    else if (url.pathname === '/repos/o/r/actions/workflows/ci.yml/runs') {
      body = {
        workflow_runs: runs.map(({ id, head_sha }) => ({
          id,
          head_sha,
          html_url: `https://github.com/o/r/actions/runs/${id}`,
        })),
      };
    } else if (jobs) body = { jobs: runs.find((r) => r.id === Number(jobs[1]))?.jobs ?? [] };
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(
    () =>
      new Promise<void>((done) => {
        server.close(() => {
          done();
        });
      }),
  );
  const env = {
    GITHUB_TOKEN: 'token-1',
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  };
  return { seen, env };
}

const passed = (name: string) => ({ name, conclusion: 'success' });

void t.test('ci-passed: a run in which every required job succeeded lets the deploy go on', async (t) => {
  // The run's own deploy failed: its conclusion is "failure", the commit is still tested.
  const { seen, env } = await fakeGitHub(t, [
    {
      id: 1,
      head_sha: SHA,
      jobs: [passed('Lint, typecheck, test'), { name: 'Image smoke test', conclusion: 'failure' }],
    },
    {
      id: 2,
      head_sha: SHA,
      jobs: [
        passed('Lint, typecheck, test'),
        passed('Image smoke test'),
        { name: 'Deploy / Deploy prod', conclusion: 'failure' },
      ],
    },
  ]);
  const result = await run('ci-passed.mjs', [SHA, 'main', ...JOBS], env);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, `CI passed for ${SHA} on main: https://github.com/o/r/actions/runs/2`);
  t.equal(
    seen[0]?.url,
    `/repos/o/r/actions/workflows/ci.yml/runs?head_sha=${SHA}&branch=main&event=push&per_page=100`,
  );
  t.equal(seen[0]?.auth, 'Bearer token-1');
});

void t.test('ci-passed: no passing run refuses the deploy and says why', async (t) => {
  const { env } = await fakeGitHub(t, [
    {
      id: 3,
      head_sha: SHA,
      jobs: [passed('Lint, typecheck, test'), { name: 'Image smoke test', conclusion: null }],
    },
    { id: 4, head_sha: 'b'.repeat(40), jobs: [passed('Lint, typecheck, test'), passed('Image smoke test')] },
  ]);
  const result = await run('ci-passed.mjs', [SHA, 'main', ...JOBS], env);
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    `commit ${SHA} has not passed CI (Lint, typecheck, test, Image smoke test) as a push to main`,
  );
  t.match(result.stderr, 'runs/3: not passed: Image smoke test');
  t.notMatch(result.stderr, /runs\/4/, "another commit's run never counts");
  const none = await fakeGitHub(t, []);
  t.match((await run('ci-passed.mjs', [SHA, 'main', ...JOBS], none.env)).stderr, /no CI run of it was found/);
});

void t.test('ci-passed: API errors and bad arguments fail clearly', async (t) => {
  const denied = await fakeGitHub(t, [], 401);
  t.match(
    (await run('ci-passed.mjs', [SHA, 'main', ...JOBS], denied.env)).stderr,
    /answered HTTP 401: \{"message":"Bad credentials"\}/,
  );
  t.match(
    (await run('ci-passed.mjs', [SHA, 'main', ...JOBS], {})).stderr,
    /GITHUB_TOKEN and GITHUB_REPOSITORY must be set/,
  );
  for (const args of [
    ['abc', 'main', ...JOBS],
    [SHA, 'main'],
    [SHA, ...JOBS],
  ]) {
    t.match((await run('ci-passed.mjs', args, denied.env)).stderr, /usage: /);
  }
});

// ---- check-stack-config.mjs ------------------------------------------------------------------------------

const PROJECT = 'name: hapi-lambda\nconfig:\n  databaseMode:\n    type: string\n    default: external\n';
const checkStack = (dir: string, stack: string) => run('check-stack-config.mjs', [stack], {}, dir);

void t.test('stack config: external mode without databaseUrl fails with the commands to run', async (t) => {
  const dir = scratch(t, {
    'Pulumi.yaml': PROJECT,
    'Pulumi.dev.yaml': 'config:\n  hapi-lambda:logLevel: debug\n',
  });
  const result = await checkStack(dir, 'dev');
  t.equal(result.code, 1);
  t.match(
    result.stdout,
    "::error::stack dev uses databaseMode external but Pulumi.dev.yaml has no databaseUrl: run `pulumi config set --secret databaseUrl 'postgres://…' -s dev` and commit the encrypted value it writes into Pulumi.dev.yaml",
  );
  t.match(result.stderr, /stack dev is not ready to deploy/);
});

void t.test('stack config: an encrypted databaseUrl, or managed mode, passes', async (t) => {
  const dir = scratch(t, {
    'Pulumi.yaml': PROJECT,
    'Pulumi.dev.yaml': 'config:\n  hapi-lambda:databaseUrl:\n    secure: v1:abc:def\n',
    'Pulumi.prod.yaml': 'config:\n  hapi-lambda:databaseMode: managed\n',
  });
  t.equal((await checkStack(dir, 'dev')).code, 0);
  t.equal((await checkStack(dir, 'prod')).code, 0);
});

void t.test('stack config: plain text, a missing stack file and bad arguments fail', async (t) => {
  const dir = scratch(t, {
    'Pulumi.yaml': PROJECT,
    'Pulumi.dev.yaml': "config:\n  hapi-lambda:databaseUrl: 'postgres://u:p@h/db'\n",
  });
  const plain = await checkStack(dir, 'dev');
  t.equal(plain.code, 1);
  t.match(
    plain.stdout,
    /::error::databaseUrl is plain text in Pulumi\.dev\.yaml: remove it, run `pulumi config set --secret/,
  );
  t.notMatch(plain.stdout + plain.stderr, /u:p@h/, 'the value itself is never printed');
  t.match(
    (await checkStack(dir, 'qa')).stdout,
    /Pulumi\.qa\.yaml does not exist: run `pulumi stack init qa`/,
  );
  t.match((await checkStack(dir, '../x')).stderr, /usage: /);
});

void t.test("stack config: the repository's own stacks are read the same way", async (t) => {
  // prod is managed; dev takes Pulumi.yaml's default (external) — its outcome depends on whether its URL
  // was committed.
  t.equal((await checkStack(ROOT, 'prod')).code, 0);
  const dev = await checkStack(ROOT, 'dev');
  const committed = /hapi-lambda:databaseUrl:\s*\n\s+secure:/.test(
    readFileSync(join(ROOT, 'Pulumi.dev.yaml'), 'utf8'),
  );
  t.equal(dev.code, committed ? 0 : 1);
});

// ---- render-iam.mjs --------------------------------------------------------------------------------------

const VALUES = { AWS_ACCOUNT_ID: '123456789012', OIDC_REPO: 'octo-org@123/hapi-app@456' };

void t.test('render-iam: fills the placeholders and prints JSON', async (t) => {
  const result = await run('render-iam.mjs', ['.github/iam/trust-prod.json'], VALUES);
  t.equal(result.code, 0, result.stderr);
  const policy = JSON.parse(result.stdout) as {
    Statement: { Condition: { StringEquals: Record<string, string> } }[];
  };
  t.equal(
    policy.Statement[0]?.Condition.StringEquals['token.actions.githubusercontent.com:sub'],
    'repo:octo-org@123/hapi-app@456:environment:prod',
  );
  t.notMatch(result.stdout, /\$\{/);
});

void t.test('render-iam: a missing or malformed value names the placeholder', async (t) => {
  t.match(
    (await run('render-iam.mjs', ['.github/iam/trust-prod.json'], { OIDC_REPO: 'o/r' })).stderr,
    /AWS_ACCOUNT_ID must be set/,
  );
  t.match(
    (await run('render-iam.mjs', ['.github/iam/trust-prod.json'], { ...VALUES, AWS_ACCOUNT_ID: '12345' }))
      .stderr,
    /AWS_ACCOUNT_ID="12345" does not match/,
  );
  t.match(
    (
      await run('render-iam.mjs', ['.github/iam/stack-resources.json'], {
        ...VALUES,
        AWS_REGION: 'eu-west-1',
        STACK: 'prod*',
      })
    ).stderr,
    /STACK="prod\*" does not match/,
    'only preview-* may be a glob',
  );
  const dir = scratch(t, { 'x.json': '{"a": "${NOPE}"}', 'y.json': '{"a": "${AWS_ACCOUNT_ID}",}' });
  t.match(
    (await run('render-iam.mjs', [join(dir, 'x.json')], VALUES)).stderr,
    /unknown placeholder \$\{NOPE\}/,
  );
  t.match(
    (await run('render-iam.mjs', [join(dir, 'y.json')], VALUES)).stderr,
    /the rendered policy is not JSON/,
  );
  t.match((await run('render-iam.mjs', [], VALUES)).stderr, /usage: /);
});

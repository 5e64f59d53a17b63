// The delivery rules the workflows keep (branch → stack, one concurrency group per stack, prod behind an
// environment, least permissions, pinned actions, scoped secrets); each rule is also tested on broken ones.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';
import { BRANCH_STACKS, stackForBranch } from '../../branch-stack.ts';
import { expandLocalActions, localActionFile } from './fixtures/local-actions.ts';
import type { WorkflowStep } from './fixtures/workflow-step.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const execFileAsync = promisify(execFile);

type Permissions = string | Record<string, string>;
type Concurrency = string | { group: string; 'cancel-in-progress'?: boolean | string };

interface Job {
  name?: string;
  if?: string;
  'runs-on'?: unknown;
  needs?: string | string[];
  uses?: string;
  permissions?: Permissions;
  environment?: string | { name: string; url?: string };
  concurrency?: Concurrency;
  'timeout-minutes'?: number;
  outputs?: Record<string, string>;
  env?: Record<string, unknown>;
  steps?: WorkflowStep[];
}

interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Permissions;
  concurrency?: Concurrency;
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

function parseWorkflow(source: string): Workflow {
  const doc = parse(source) as Workflow;
  if (typeof doc !== 'object' || typeof doc.jobs !== 'object') throw new Error('not a workflow');
  return doc;
}

function loadWorkflow(name: string): { source: string; wf: Workflow } {
  const source = readFileSync(resolve(ROOT, '.github/workflows', name), 'utf8');
  return { source, wf: parseWorkflow(source) };
}

const jobsOf = (wf: Workflow) => Object.entries(wf.jobs);
/** A job's steps, with the repository's composite actions (.github/actions) replaced by their steps. */
const stepsOf = (job: Job) => expandLocalActions(job.steps ?? []);
const actionName = (step: WorkflowStep) => step.uses?.split('@')[0];
const usesAction = (job: Job, action: string) => stepsOf(job).some((step) => actionName(step) === action);
const pulumiSteps = (job: Job) => stepsOf(job).filter((step) => actionName(step) === 'pulumi/actions');
const mentionsSecrets = (value: unknown) => typeof value === 'string' && /\$\{\{[^}]*\bsecrets\./.test(value);

// ---- the rules -------------------------------------------------------------------------------------

// `owner/repo[/path]@<40-hex commit> # vX.Y.Z`: a tag can be moved to other code, a commit cannot; the
// comment is what Dependabot's github-actions ecosystem reads and rewrites when it bumps the pin
// (https://docs.github.com/code-security/dependabot/ecosystems-supported-by-dependabot).
const PINNED_LINE = /^\s*(?:-\s+)?uses:\s+[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$/;

/** Every remote action and reusable workflow is pinned to a full commit SHA with its release as a comment. */
function unpinnedActions(source: string): string[] {
  return source
    .split('\n')
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => /^\s*(?:-\s+)?uses:\s/.test(line) && !/uses:\s+\.\//.test(line))
    .filter(({ line }) => !PINNED_LINE.test(line))
    .map(
      ({ line, number }) =>
        `line ${number}: ${line.trim()} is not pinned to a commit SHA with a # vX.Y.Z comment`,
    );
}

/** `owner/repo` → the `sha # version` it is pinned to, from every workflow; one action, one pin. */
function pinsOf(sources: string[]): Map<string, Set<string>> {
  const pins = new Map<string, Set<string>>();
  for (const source of sources) {
    for (const [, action, pin] of source.matchAll(
      /uses:\s+([\w.-]+\/[\w.-]+)(?:\/[\w./-]+)?@(\S+(?: # \S+)?)/g,
    )) {
      if (action === undefined || pin === undefined) continue;
      pins.set(action, (pins.get(action) ?? new Set()).add(pin));
    }
  }
  return pins;
}

/**
 * Read-only by default; a job may write only what it needs: `id-token` to assume the AWS role by OIDC,
 * `pull-requests` to comment with pulumi/actions. A job assuming the role must ask for `id-token`.
 */
function permissionProblems(wf: Workflow): string[] {
  const problems: string[] = [];
  const top = wf.permissions;
  if (typeof top !== 'object')
    problems.push(`workflow: permissions must be an explicit map, got ${String(top)}`);
  else {
    for (const [scope, level] of Object.entries(top)) {
      if (level !== 'read' && level !== 'none')
        problems.push(`workflow: ${scope}: ${level} (only read/none here)`);
    }
  }
  for (const [id, job] of jobsOf(wf)) {
    // A job calling a workflow of this repository may grant what the called jobs need, no more.
    const called =
      job.uses?.startsWith('./') === true
        ? jobsOf(loadWorkflow(basename(job.uses)).wf).map(([, j]) => j)
        : [job];
    const oidc = called.some((j) => usesAction(j, 'aws-actions/configure-aws-credentials'));
    const comments = called.some((j) => pulumiSteps(j).some((step) => step.with?.['comment-on-pr'] === true));
    const perms = job.permissions;
    if (perms !== undefined && typeof perms !== 'object') problems.push(`${id}: permissions: ${perms}`);
    const map = typeof perms === 'object' ? perms : {};
    for (const [scope, level] of Object.entries(map)) {
      if (level !== 'write') continue;
      if (scope === 'id-token' && oidc) continue;
      if (scope === 'pull-requests' && comments) continue;
      problems.push(`${id}: ${scope}: write is not needed`);
    }
    if (oidc && map['id-token'] !== 'write')
      problems.push(`${id}: assumes an AWS role but lacks id-token: write`);
  }
  return problems;
}

/**
 * Secrets reach only the step that uses them (never workflow or job `env`, where `npm ci` would see them),
 * never appear in a `run` script, and are never echoed through the variable that carries them.
 */
function secretLeaks(wf: Workflow): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(wf.env ?? {})) {
    if (mentionsSecrets(value)) problems.push(`workflow env ${name} holds a secret`);
  }
  for (const [id, job] of jobsOf(wf)) {
    for (const [name, value] of Object.entries(job.env ?? {})) {
      if (mentionsSecrets(value)) problems.push(`${id}: job env ${name} holds a secret`);
    }
    for (const step of stepsOf(job)) {
      if (step.run === undefined) continue;
      const label = `${id}/${step.name ?? step.id ?? step.run.split('\n')[0] ?? ''}`;
      if (mentionsSecrets(step.run)) problems.push(`${label}: a secret is expanded into the script`);
      for (const [name, value] of Object.entries(step.env ?? {})) {
        if (!mentionsSecrets(value)) continue;
        const echoed = new RegExp(`\\b(?:echo|printf|cat)\\b[^\\n]*\\$\\{?${name}\\b`);
        if (echoed.test(step.run)) problems.push(`${label}: echoes ${name}, which holds a secret`);
        if (/^\s*set\s+-[a-z]*x/m.test(step.run)) problems.push(`${label}: set -x would trace ${name}`);
      }
    }
  }
  return problems;
}

/** A job that changes a stack holds that stack's concurrency group and never cancels a running update. */
function stackConcurrencyProblems(wf: Workflow): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(wf)) {
    for (const step of pulumiSteps(job)) {
      const command = String(step.with?.command);
      if (!['up', 'update', 'destroy', 'refresh'].includes(command)) continue;
      const stack = String(step.with?.['stack-name']);
      const concurrency = job.concurrency;
      if (typeof concurrency !== 'object') {
        problems.push(`${id}: pulumi ${command} without a concurrency group`);
        continue;
      }
      if (!concurrency.group.includes(stack))
        problems.push(`${id}: group ${concurrency.group} is not per stack ${stack}`);
      if (concurrency['cancel-in-progress'] !== false)
        problems.push(`${id}: cancel-in-progress must be false`);
    }
  }
  return problems;
}

/** Every job is bounded in time, and Node always comes from .nvmrc. */
function hygieneProblems(wf: Workflow): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(wf)) {
    if (job.uses === undefined && typeof job['timeout-minutes'] !== 'number')
      problems.push(`${id}: no timeout-minutes`);
    for (const step of stepsOf(job)) {
      if (actionName(step) === 'actions/setup-node' && step.with?.['node-version-file'] !== '.nvmrc') {
        problems.push(`${id}: setup-node must read .nvmrc`);
      }
    }
  }
  return problems;
}

const RULES = { permissionProblems, secretLeaks, stackConcurrencyProblems, hygieneProblems };

// ---- every workflow keeps every rule ---------------------------------------------------------------

const workflowNames = readdirSync(resolve(ROOT, '.github/workflows')).filter((name) => /\.ya?ml$/.test(name));

for (const name of workflowNames) {
  void t.test(`${name} keeps the delivery rules`, (t) => {
    const { source, wf } = loadWorkflow(name);
    for (const [rule, check] of Object.entries(RULES)) t.same(check(wf), [], rule);
    t.same(unpinnedActions(source), [], 'unpinnedActions');
    t.end();
  });

  void t.test(`${name} references only files that exist`, (t) => {
    const { source } = loadWorkflow(name);
    const paths = new Set(
      source.match(/(?:\.github\/(?:scripts|events)\/[\w.-]+|docker\/Dockerfile|\.nvmrc)/g) ?? [],
    );
    for (const path of paths) t.ok(existsSync(resolve(ROOT, path)), path);
    for (const [, uses] of source.matchAll(/uses:\s+(\.\/\.github\/actions\/[\w./-]+)/g))
      t.ok(localActionFile(uses), `${uses}/action.yml`);
    t.end();
  });
}

// ---- composite actions -----------------------------------------------------------------------------

const actionFolder = resolve(ROOT, '.github/actions');
const actionSources = (existsSync(actionFolder) ? readdirSync(actionFolder) : []).map((name) => ({
  name,
  source: readFileSync(localActionFile(`./.github/actions/${name}`) ?? '', 'utf8'),
}));

void t.test('composite actions pin their actions as the workflows do', (t) => {
  t.ok(actionSources.length > 0, 'found .github/actions');
  for (const { name, source } of actionSources) t.same(unpinnedActions(source), [], name);
  t.end();
});

void t.test("a job's steps include its composite actions' steps, so every rule reads them", (t) => {
  const expanded = stepsOf({ steps: [{ uses: './.github/actions/setup' }, { run: 'npm test' }] });
  t.ok(
    expanded.some((step) => actionName(step) === 'actions/setup-node'),
    'setup-node inside the action',
  );
  t.equal(expanded.at(-1)?.run, 'npm test', 'in their place');
  t.same(
    hygieneProblems(
      parseWorkflow(
        'on: push\njobs:\n  a:\n    runs-on: x\n    timeout-minutes: 1\n    steps:\n      - uses: ./.github/actions/setup\n',
      ),
    ),
    [],
    'setup-node in the action reads .nvmrc',
  );
  t.throws(() => stepsOf({ steps: [{ uses: './.github/actions/missing' }] }), /no action\.yml/);
  t.end();
});

// ---- the rules catch broken workflows --------------------------------------------------------------

const BAD_SOURCE = `
name: bad
on: push
permissions: write-all
env:
  TOKEN: \${{ secrets.TOKEN }}
jobs:
  deploy:
    runs-on: ubuntu-24.04
    permissions:
      contents: write
      id-token: write
      pull-requests: write
    concurrency:
      group: deploy
      cancel-in-progress: true
    env:
      KEY: \${{ secrets.KEY }}
    steps:
      - uses: actions/checkout@main
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
      - uses: actions/setup-node@v7
        with:
          node-version: 24
      - uses: someone/action@master
      - uses: pulumi/actions@v7
        with:
          command: up
          stack-name: \${{ needs.stack.outputs.name }}
      - run: echo "\${{ secrets.PULUMI_ACCESS_TOKEN }}"
      - name: leak
        env:
          PASS: \${{ secrets.PASS }}
        run: |
          set -euxo pipefail
          echo "password is $PASS"
  assume:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn
      - uses: pulumi/actions@v7
        with:
          command: destroy
          stack-name: dev
`;
const BAD = parseWorkflow(BAD_SOURCE);

void t.test('the rules report a broken workflow', (t) => {
  t.same(
    unpinnedActions(BAD_SOURCE).map((problem) => problem.replace(/ is not pinned.*/, '')),
    [
      'line 20: - uses: actions/checkout@main',
      'line 22: - uses: actions/setup-node@v7',
      'line 25: - uses: someone/action@master',
      'line 26: - uses: pulumi/actions@v7',
      'line 41: - uses: aws-actions/configure-aws-credentials@v6',
      'line 44: - uses: pulumi/actions@v7',
    ],
  );
  t.same(
    unpinnedActions('      - uses: ./.github/workflows/deploy.yml\n'),
    [],
    'local workflows need no pin',
  );
  t.same(
    unpinnedActions('      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1\n').length,
    1,
    'a SHA without its version comment',
  );
  t.same(permissionProblems(BAD), [
    'workflow: permissions must be an explicit map, got write-all',
    'deploy: contents: write is not needed',
    'deploy: id-token: write is not needed',
    'deploy: pull-requests: write is not needed',
    'assume: assumes an AWS role but lacks id-token: write',
  ]);
  t.same(secretLeaks(BAD), [
    'workflow env TOKEN holds a secret',
    'deploy: job env KEY holds a secret',
    'deploy/echo "${{ secrets.PULUMI_ACCESS_TOKEN }}": a secret is expanded into the script',
    'deploy/leak: echoes PASS, which holds a secret',
    'deploy/leak: set -x would trace PASS',
  ]);
  t.same(stackConcurrencyProblems(BAD), [
    'deploy: group deploy is not per stack ${{ needs.stack.outputs.name }}',
    'deploy: cancel-in-progress must be false',
    'assume: pulumi destroy without a concurrency group',
  ]);
  t.same(hygieneProblems(BAD), ['deploy: no timeout-minutes', 'deploy: setup-node must read .nvmrc']);
  const caller = parseWorkflow(
    'on: push\npermissions:\n  contents: read\njobs:\n  call:\n    uses: ./.github/workflows/ci.yml\n    permissions:\n      id-token: write\n',
  );
  t.same(
    permissionProblems(caller),
    ['call: id-token: write is not needed'],
    'ci.yml assumes no role itself',
  );
  t.same(permissionProblems(parseWorkflow('on: push\npermissions:\n  contents: write\njobs: {}\n')), [
    'workflow: contents: write (only read/none here)',
  ]);
  t.end();
});

// ---- helpers for the workflow-specific checks -------------------------------------------------------------

// Runs a step's script as Actions would (bash -e), with Node 24 first on PATH and the output files.
async function runStep(step: WorkflowStep | undefined, env: Record<string, string>) {
  if (step?.run === undefined) throw new Error('no such step');
  const dir = mkdtempSync(join(tmpdir(), 'step-'));
  try {
    const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
    let code = 0;
    let stdout = '';
    try {
      ({ stdout } = await execFileAsync(
        'bash',
        ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run],
        {
          cwd: ROOT,
          env: { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, ...files, ...env },
        },
      ));
    } catch (error) {
      const e = error as { code?: number; stdout?: string };
      code = typeof e.code === 'number' ? e.code : -1;
      stdout = e.stdout ?? '';
    }
    const outputs = existsSync(files.GITHUB_OUTPUT)
      ? Object.fromEntries(
          readFileSync(files.GITHUB_OUTPUT, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        )
      : {};
    return { code, stdout, outputs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const needsOf = (job: Job | undefined) => (job?.needs === undefined ? [] : [job.needs].flat());
const stepIndex = (job: Job | undefined, found: (step: WorkflowStep) => boolean) =>
  stepsOf(job ?? {}).findIndex(found);
const runsScript = (script: string) => (step: WorkflowStep) =>
  step.run?.includes(`.github/scripts/${script}`) === true;
/** The first step that builds or needs cloud credentials: AWS, buildx (the image build) or Pulumi. */
const firstBuildStep = (job: Job | undefined) =>
  stepIndex(job, (step) =>
    ['aws-actions/configure-aws-credentials', 'docker/setup-buildx-action', 'pulumi/actions'].includes(
      actionName(step) ?? '',
    ),
  );
const LONG_LIVED_BRANCHES = Object.keys(BRANCH_STACKS);

// ---- ci.yml ----------------------------------------------------------------------------------------

const ci = loadWorkflow('ci.yml');
const ciDeploy = ci.wf.jobs.deploy;
/** The CI jobs a deploy waits for: every job of ci.yml except the deploy itself. */
const testJobs = jobsOf(ci.wf).filter(([id]) => id !== 'deploy');

void t.test('ci: long-lived branches on push, everything else through its pull request, once', (t) => {
  t.same(Object.keys(ci.wf.on).sort(), ['pull_request', 'push', 'workflow_dispatch']);
  // A push to a branch with an open pull request would otherwise run CI twice, in two concurrency groups.
  t.same(ci.wf.on.push, { branches: LONG_LIVED_BRANCHES });
  const concurrency = ci.wf.concurrency;
  if (typeof concurrency !== 'object') throw new Error('ci.yml needs a concurrency map');
  t.match(concurrency.group, /github\.event\.pull_request\.number/, 'one group per pull request');
  t.match(concurrency.group, /github\.run_id/, 'pushes never share a group, so a deploy is never cancelled');
  t.end();
});

void t.test('ci: lint, typecheck, the test command, coverage', (t) => {
  const runs = stepsOf(ci.wf.jobs.test ?? {}).map((step) => step.run ?? '');
  for (const command of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test'])
    t.ok(runs.includes(command), command);
  const scripts = (
    JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  t.match(scripts.lint, /npm run knip$/, 'lint ends with knip: unused files, exports, dependencies');
  t.match(runs.join('\n'), /tap report text-summary[\s\S]*GITHUB_STEP_SUMMARY/);
  const upload = stepsOf(ci.wf.jobs.test ?? {}).find(
    (step) => actionName(step) === 'actions/upload-artifact',
  );
  t.match(String(upload?.with?.path), /service\/\.tap\/report[\s\S]*infrastructure\/\.tap\/report/);
  t.equal(upload?.with?.['include-hidden-files'], true, '.tap is a hidden folder');
  t.end();
});

void t.test('ci: production dependencies are audited, with the allow-list as the only way around', (t) => {
  const runs = stepsOf(ci.wf.jobs.audit ?? {}).map((step) => step.run ?? '');
  t.ok(runs.includes('npm ci'), 'the pinned better-npm-audit is installed from the lockfile');
  // The flags audit-gate.test.ts runs it with: production dependencies, high and critical.
  t.ok(runs.includes('npx --no better-npm-audit audit --production --level high'), runs.join('\n'));
  t.ok(existsSync(resolve(ROOT, '.nsprc')), 'the allow-list exists where the tool reads it');
  t.end();
});

void t.test(
  'ci: the image is built for the Lambda platform and run as a server and under the emulator',
  (t) => {
    const image = ci.wf.jobs.image;
    const build = stepsOf(image ?? {}).find((step) => actionName(step) === 'docker/build-push-action');
    t.equal(build?.with?.file, 'docker/Dockerfile');
    t.equal(build?.with?.platforms, '${{ env.IMAGE_PLATFORM }}');
    t.equal(ci.wf.env?.IMAGE_PLATFORM, 'linux/arm64');
    t.equal(
      build?.with?.['build-args'],
      'PLATFORM=${{ env.IMAGE_PLATFORM }}',
      "the Dockerfile's platform argument",
    );
    t.equal(build?.with?.load, true);
    t.equal(build?.with?.provenance, false);
    // Pull requests read the pushed branches' build cache but never write it.
    t.match(
      String(build?.with?.['cache-to']),
      /^\$\{\{ github\.event_name == 'push' && 'type=gha,[^']*' \|\| '' \}\}$/,
    );
    const script = stepsOf(image ?? {})
      .map((step) => step.run ?? '')
      .join('\n');
    t.match(script, /node \.github\/scripts\/smoke\.mjs http:\/\/127\.0\.0\.1:8080/);
    t.match(script, /--entrypoint \/aws-lambda-rie/);
    t.match(script, /--runtime-interface-emulator-address 0\.0\.0\.0:9000/);
    t.match(
      script,
      /node \.github\/scripts\/lambda-invoke\.mjs \\\s+http:\/\/127\.0\.0\.1:9000\/2015-03-31\/functions\/function\/invocations \.github\/events\/http-api-v2\.json/,
    );
    t.match(script, /migrate/);
    t.end();
  },
);

void t.test('ci: a push to a long-lived branch deploys only after every CI job passed', (t) => {
  if (!ciDeploy) throw new Error('ci.yml needs a "deploy" job');
  t.equal(ciDeploy.uses, './.github/workflows/deploy.yml');
  t.same(
    needsOf(ciDeploy).sort(),
    testJobs.map(([id]) => id).sort(),
    'needs lint/test, audit and the image test',
  );
  t.match(ciDeploy.if, /github\.event_name == 'push'/);
  for (const branch of LONG_LIVED_BRANCHES) t.match(ciDeploy.if, `github.ref == 'refs/heads/${branch}'`);
  // No secret is handed over (the environments hold them); `inherit` would pass every repository secret.
  t.not((ciDeploy as { secrets?: unknown }).secrets, 'inherit');
  t.end();
});

// ---- deploy.yml ------------------------------------------------------------------------------------

const deploy = loadWorkflow('deploy.yml').wf;
const deployJob = deploy.jobs.deploy;
const stackJob = deploy.jobs.stack;

void t.test('deploy: called by CI after its tests, or by hand; never straight from a push', (t) => {
  t.same(Object.keys(deploy.on).sort(), ['workflow_call', 'workflow_dispatch']);
  t.end();
});

void t.test('deploy: a manual run deploys only a commit CI passed on that branch', (t) => {
  const verify = stepsOf(stackJob ?? {}).find(runsScript('ci-passed.mjs'));
  t.equal(verify?.if, "${{ github.event_name == 'workflow_dispatch' }}");
  t.match(verify?.run, /node \.github\/scripts\/ci-passed\.mjs "\$SHA" "\$BRANCH"/);
  // The jobs the script requires are exactly the jobs ci.yml's deploy waits for, by their display names.
  const required = [...(verify?.run ?? '').matchAll(/--job '([^']+)'/g)].map((m) => m[1]).sort();
  t.same(required, testJobs.map(([id, job]) => job.name ?? id).sort());
  t.equal(verify?.env?.GITHUB_TOKEN, '${{ github.token }}');
  t.match(stackJob?.permissions, { actions: 'read' }, 'reading workflow runs needs actions: read');
  t.match(
    ciDeploy?.permissions,
    { actions: 'read' },
    'a called workflow gets no more than its caller grants',
  );
  const resolveSha = stepIndex(stackJob, (step) => step.id === 'commit');
  t.ok(
    resolveSha >= 0 && resolveSha < stepsOf(stackJob ?? {}).indexOf(verify as WorkflowStep),
    'resolves the SHA first',
  );
  t.equal(stackJob?.outputs?.sha, '${{ steps.commit.outputs.sha }}');
  const checkout = stepsOf(deployJob ?? {}).find((step) => actionName(step) === 'actions/checkout');
  t.equal(checkout?.with?.ref, '${{ needs.stack.outputs.sha }}', 'deploys the verified commit');
  t.end();
});

void t.test('deploy: the stack comes from branch-stack.ts and drives every stack-specific setting', (t) => {
  if (!deployJob || !stackJob) throw new Error('deploy.yml needs the jobs "stack" and "deploy"');
  const map = stepsOf(stackJob).find((step) => step.id === 'map');
  t.match(map?.run, /node infrastructure\/branch-stack\.ts "\$BRANCH"/);
  t.equal(map?.env?.BRANCH, '${{ github.ref_name }}');
  t.equal(stackJob.outputs?.name, '${{ steps.map.outputs.stack }}');

  const stack = '${{ needs.stack.outputs.name }}';
  t.equal(deployJob.needs, 'stack');
  const up = pulumiSteps(deployJob);
  // `up`, then a refresh of the alias alone after the rollout (rollout.test.ts).
  t.same(
    up.map((step) => step.with?.command),
    ['up', 'refresh'],
  );
  for (const step of up) {
    t.equal(step.with?.['stack-name'], stack);
    t.equal(step.with?.['work-dir'], '.');
    t.equal(step.with?.['cloud-url'], '${{ vars.PULUMI_BACKEND_URL }}');
  }
  t.same(deployJob.concurrency, { group: `pulumi-stack-${stack}`, 'cancel-in-progress': false });
  t.end();
});

void t.test(
  'deploy: a missing secret config fails before credentials and the build, saying what to run',
  (t) => {
    const check = stepIndex(deployJob, runsScript('check-stack-config.mjs'));
    t.ok(check >= 0, 'checks the stack config');
    t.match(stepsOf(deployJob ?? {})[check]?.run, /check-stack-config\.mjs "\$STACK"/);
    t.ok(check < firstBuildStep(deployJob), 'before AWS credentials, buildx and pulumi');
    t.end();
  },
);

void t.test('deploy: each environment assumes its own role by OIDC, no long-lived keys', (t) => {
  const environment = deployJob?.environment;
  t.ok(typeof environment === 'object', 'environment with a URL');
  t.equal(
    typeof environment === 'object' ? environment.name : environment,
    '${{ needs.stack.outputs.name }}',
  );
  const aws = stepsOf(deployJob ?? {}).find(
    (step) => actionName(step) === 'aws-actions/configure-aws-credentials',
  );
  // An environment variable: the prod environment holds the prod role's ARN, dev the dev role's.
  t.equal(aws?.with?.['role-to-assume'], '${{ vars.AWS_ROLE_ARN }}');
  t.equal(aws?.with?.['aws-region'], '${{ vars.AWS_REGION }}');
  t.notOk(aws?.with?.['aws-access-key-id'], 'no access key');
  t.same(deployJob?.permissions, { contents: 'read', 'id-token': 'write' });
  t.same(deploy.permissions, { contents: 'read' });
  t.end();
});

void t.test('deploy: prints the API URL and smoke-tests it (read-only on prod)', (t) => {
  const steps = stepsOf(deployJob ?? {});
  const smoke = steps.find((step) => step.run?.includes('.github/scripts/smoke.mjs'));
  t.equal(smoke?.env?.API_URL, '${{ steps.up.outputs.apiUrl }}');
  t.match(String(smoke?.env?.SMOKE_READ_ONLY), /needs\.stack\.outputs\.name == 'prod' && '1'/);
  t.ok(
    steps.some((step) => step.run?.includes('$API_URL') && step.run.includes('GITHUB_STEP_SUMMARY')),
    'URL in the summary',
  );
  t.end();
});

void t.test("deploy: the mapping step's script, run as the workflow runs it", async (t) => {
  const map = stepsOf(stackJob ?? {}).find((step) => step.id === 'map');
  t.same(await runStep(map, { BRANCH: 'main' }), { code: 0, stdout: '', outputs: { stack: 'prod' } });
  t.same(await runStep(map, { BRANCH: 'development' }), { code: 0, stdout: '', outputs: { stack: 'dev' } });
  const feature = await runStep(map, { BRANCH: 'feature/x' });
  t.equal(feature.code, 1, 'a feature branch is refused');
  t.match(
    feature.stdout,
    `::error::Branch 'feature/x' has no long-lived stack (it maps to ${stackForBranch('feature/x')})`,
  );
  t.same(feature.outputs, {});
});

void t.test('deploy: every run gets its own immutable image tag when it is not the first', async (t) => {
  const tag = stepsOf(deployJob ?? {}).find((step) => step.id === 'tag');
  const sha = (await execFileAsync('git', ['rev-parse', 'HEAD'], { cwd: ROOT })).stdout.trim();
  const push = await runStep(tag, { REDEPLOY_REF: '', RUN_ID: '42', RUN_ATTEMPT: '1' });
  t.same(push.outputs, { tag: `git-${sha.slice(0, 12)}` });
  const rollback = await runStep(tag, { REDEPLOY_REF: 'abc123', RUN_ID: '42', RUN_ATTEMPT: '1' });
  t.same(rollback.outputs, { tag: `git-${sha.slice(0, 12)}-run-42-1` });
  const rerun = await runStep(tag, { REDEPLOY_REF: '', RUN_ID: '42', RUN_ATTEMPT: '2' });
  t.same(rerun.outputs, { tag: `git-${sha.slice(0, 12)}-run-42-2` });
  t.match(
    String(pulumiSteps(deployJob ?? {})[0]?.with?.['config-map']),
    /imageTag: \{value: "\$\{\{ steps\.tag\.outputs\.tag \}\}"/,
  );
});

// ---- preview.yml -----------------------------------------------------------------------------------

const preview = loadWorkflow('preview.yml').wf;
const planJob = preview.jobs.plan;
const previewStackJob = preview.jobs['preview-stack'];
const destroyJob = preview.jobs['destroy-preview-stack'];

void t.test('preview: pull requests only, same-repository only, never Dependabot', (t) => {
  t.same(Object.keys(preview.on), ['pull_request']);
  t.same(preview.on.pull_request, { types: ['opened', 'synchronize', 'reopened', 'closed'] });
  const gate = preview.jobs.stacks?.if;
  t.match(gate, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
  // Dependabot's runs get no Actions secrets, even when someone else re-runs them: skip, CI still runs.
  t.match(gate, /github\.actor != 'dependabot\[bot\]'/);
  for (const [id, job] of jobsOf(preview))
    if (id !== 'stacks') t.ok(needsOf(job).includes('stacks'), `${id} needs stacks`);
  t.end();
});

void t.test("preview: the mapping step's script, run as the workflow runs it", async (t) => {
  const map = stepsOf(preview.jobs.stacks ?? {}).find((step) => step.id === 'map');
  t.same((await runStep(map, { BASE_REF: 'main', HEAD_REF: 'feature/Login' })).outputs, {
    target: 'prod',
    preview: stackForBranch('feature/Login'),
  });
  t.same((await runStep(map, { BASE_REF: 'development', HEAD_REF: 'fix/1' })).outputs, {
    target: 'dev',
    preview: stackForBranch('fix/1'),
  });
  t.same(
    (await runStep(map, { BASE_REF: 'feature/base', HEAD_REF: 'feature/x' })).outputs,
    { target: '', preview: stackForBranch('feature/x') },
    'a PR into a feature branch has no stack to preview',
  );
  t.same(
    (await runStep(map, { BASE_REF: 'main', HEAD_REF: 'development' })).outputs,
    { target: 'prod', preview: '' },
    'a long-lived branch never gets a preview stack',
  );
});

void t.test('preview: pulumi preview of the target stack, commented on the pull request', (t) => {
  const step = pulumiSteps(planJob ?? {})[0];
  t.equal(step?.with?.command, 'preview');
  t.equal(step?.with?.['stack-name'], '${{ needs.stacks.outputs.target }}');
  t.equal(step?.with?.['comment-on-pr'], true);
  t.match(planJob?.if, /github\.event\.action != 'closed'/);
  t.same(planJob?.permissions, { contents: 'read', 'id-token': 'write', 'pull-requests': 'write' });
  const check = stepIndex(planJob, runsScript('check-stack-config.mjs'));
  t.ok(check >= 0 && check < firstBuildStep(planJob), 'checks the target stack config before anything else');
  t.end();
});

void t.test('preview: every preview job assumes the preview role, never a deploy role', (t) => {
  for (const job of [planJob, previewStackJob, destroyJob]) {
    const aws = stepsOf(job ?? {}).find(
      (step) => actionName(step) === 'aws-actions/configure-aws-credentials',
    );
    t.equal(aws?.with?.['role-to-assume'], '${{ vars.AWS_PREVIEW_ROLE_ARN }}', job?.name ?? '');
  }
  t.notOk(planJob?.environment, 'the plan job presents the pull_request subject');
  for (const job of [previewStackJob, destroyJob]) {
    const environment = job?.environment;
    t.equal(typeof environment === 'object' ? environment.name : environment, 'preview');
  }
  t.end();
});

void t.test('preview: per-PR stacks are opt-in, created on update, destroyed on close', (t) => {
  for (const job of [previewStackJob, destroyJob]) t.match(job?.if, /vars\.PREVIEW_STACKS == 'true'/);
  t.match(previewStackJob?.if, /github\.event\.action != 'closed'/);
  t.match(destroyJob?.if, /github\.event\.action == 'closed'/);

  const upStep = pulumiSteps(previewStackJob ?? {})[0];
  t.equal(upStep?.with?.command, 'up');
  t.equal(upStep?.with?.upsert, true);
  t.equal(upStep?.with?.['stack-name'], '${{ needs.stacks.outputs.preview }}');
  const destroyStep = pulumiSteps(destroyJob ?? {})[0];
  t.equal(destroyStep?.with?.command, 'destroy');
  t.equal(destroyStep?.with?.remove, true);
  t.equal(destroyStep?.with?.['stack-name'], '${{ needs.stacks.outputs.preview }}');

  t.same(previewStackJob?.concurrency, destroyJob?.concurrency, 'up and destroy share the stack group');
  t.end();
});

void t.test('preview stack: a missing PREVIEW_DATABASE_URL fails first, with what to set', async (t) => {
  const index = stepIndex(
    previewStackJob,
    (step) => step.env?.PREVIEW_DATABASE_URL !== undefined && step.run !== undefined,
  );
  t.ok(index >= 0 && index < firstBuildStep(previewStackJob), 'before credentials and the build');
  const check = stepsOf(previewStackJob ?? {})[index];
  const missing = await runStep(check, { PREVIEW_DATABASE_URL: '' });
  t.equal(missing.code, 1);
  t.match(missing.stdout, /::error::.*PREVIEW_DATABASE_URL/);
  t.equal((await runStep(check, { PREVIEW_DATABASE_URL: 'postgres://u:p@h/db' })).code, 0);
});

void t.test('preview stack: every run pushes its own image tag (re-runs included)', async (t) => {
  const tag = stepsOf(previewStackJob ?? {}).find((step) => step.id === 'tag');
  const sha = (await execFileAsync('git', ['rev-parse', 'HEAD'], { cwd: ROOT })).stdout.trim();
  t.same((await runStep(tag, { RUN_ID: '7', RUN_ATTEMPT: '1' })).outputs, {
    tag: `git-${sha.slice(0, 12)}-run-7-1`,
  });
  t.same((await runStep(tag, { RUN_ID: '7', RUN_ATTEMPT: '2' })).outputs, {
    tag: `git-${sha.slice(0, 12)}-run-7-2`,
  });
  t.equal(tag?.env?.RUN_ID, '${{ github.run_id }}');
  t.equal(tag?.env?.RUN_ATTEMPT, '${{ github.run_attempt }}');
  t.match(
    String(pulumiSteps(previewStackJob ?? {})[0]?.with?.['config-map']),
    /imageTag: \{value: "\$\{\{ steps\.tag\.outputs\.tag \}\}", secret: false\}/,
  );
});

// ---- every action has one pin across the workflows -----------------------------------------------------

void t.test('each action is pinned to one commit everywhere (Dependabot bumps them together)', (t) => {
  const pins = pinsOf([
    ...workflowNames.map((name) => loadWorkflow(name).source),
    ...actionSources.map(({ source }) => source),
  ]);
  t.ok(pins.size > 0, 'found the actions');
  for (const [action, versions] of pins) t.equal(versions.size, 1, `${action}: ${[...versions].join(', ')}`);
  const mixed = pinsOf(['uses: a/b@v1\n', 'uses: a/b@v2\n']);
  t.same([...(mixed.get('a/b') ?? [])], ['v1', 'v2'], 'the check sees two pins');
  t.end();
});

// ---- dependabot.yml --------------------------------------------------------------------------------

void t.test('dependabot: npm, Docker and GitHub Actions, in folders that exist', (t) => {
  const config = parse(readFileSync(resolve(ROOT, '.github/dependabot.yml'), 'utf8')) as {
    version: number;
    updates: {
      'package-ecosystem': string;
      directory?: string;
      directories?: string[];
      schedule: { interval: string };
    }[];
  };
  t.equal(config.version, 2);
  const ecosystems = config.updates.map((u) => u['package-ecosystem']);
  for (const ecosystem of ['npm', 'docker', 'github-actions'])
    t.ok(ecosystems.includes(ecosystem), ecosystem);
  for (const update of config.updates) {
    const folders = update.directories ?? [update.directory ?? ''];
    t.ok(folders.length > 0 && folders.every(Boolean), `${update['package-ecosystem']}: a folder`);
    for (const folder of folders) {
      // A trailing `*` is Dependabot's glob over the folders inside.
      const base = folder.replace(/\/\*$/, '');
      t.ok(existsSync(join(ROOT, base)), `${update['package-ecosystem']}: ${folder}`);
    }
    t.ok(['daily', 'weekly', 'monthly'].includes(update.schedule.interval));
  }
  t.ok(existsSync(join(ROOT, 'docker/Dockerfile')), 'the docker ecosystem has a Dockerfile to read');
  const actionsUpdate = config.updates.find((u) => u['package-ecosystem'] === 'github-actions');
  for (const name of actionSources.map((a) => a.name))
    t.ok(
      (actionsUpdate?.directories ?? []).some(
        (d) => d === `/.github/actions/${name}` || d === '/.github/actions/*',
      ),
      `Dependabot bumps the pins in .github/actions/${name}`,
    );
  for (const update of config.updates.filter((u) => u['package-ecosystem'] === 'docker-compose')) {
    const files = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
    t.ok(
      files.some((file) => existsSync(join(ROOT, update.directory ?? '', file))),
      `a compose file in ${update.directory}`,
    );
  }
  t.end();
});

// ---- secrets, versions and stale settings across every workflow --------------------------------------

/** Secrets that deploy or read a stack: only a job inside a GitHub environment may name them. */
const ENVIRONMENT_SECRETS = ['PULUMI_ACCESS_TOKEN', 'PULUMI_CONFIG_PASSPHRASE', 'SMOKE_API_KEY'];
const allWorkflows = workflowNames.map((name) => ({ name, ...loadWorkflow(name) }));
const secretsNamedBy = (value: unknown): string[] =>
  [...JSON.stringify(value ?? null).matchAll(/\bsecrets\.([A-Z0-9_]+)/g)].map((match) => match[1] ?? '');

void t.test('stack secrets come from GitHub environments, one set per environment', (t) => {
  for (const { name, wf } of allWorkflows) {
    for (const [id, job] of jobsOf(wf)) {
      const named = secretsNamedBy({
        steps: job.steps,
        env: job.env,
        with: (job as { with?: unknown }).with,
      });
      for (const secret of named.filter((candidate) => ENVIRONMENT_SECRETS.includes(candidate))) {
        t.ok(job.environment, `${name}/${id}: ${secret} only inside an environment (prod, dev or preview)`);
      }
    }
  }
  // A reusable workflow's environment secrets win only when the caller hands over none of these.
  t.same(
    secretsNamedBy((ciDeploy as { secrets?: unknown } | undefined)?.secrets).filter((secret) =>
      ENVIRONMENT_SECRETS.includes(secret),
    ),
    [],
    'ci.yml hands the deploy no stack secret',
  );
  const call = deploy.on.workflow_call as { secrets?: Record<string, unknown> } | null;
  t.same(
    Object.keys(call?.secrets ?? {}).filter((secret) => ENVIRONMENT_SECRETS.includes(secret)),
    [],
    'deploy.yml takes no stack secret from its caller',
  );
  t.notOk(planJob?.environment, 'the plan job still presents the pull_request subject');
  t.same(
    secretsNamedBy(planJob?.steps).filter((secret) => /PULUMI/.test(secret)),
    ['PULUMI_PLAN_ACCESS_TOKEN', 'PULUMI_PLAN_CONFIG_PASSPHRASE'],
    "the plan job's read-only credentials have their own names",
  );
  t.end();
});

void t.test('every pulumi/actions step pins one Pulumi CLI version', (t) => {
  const versions = new Set<unknown>();
  for (const { name, wf } of allWorkflows) {
    for (const [id, job] of jobsOf(wf)) {
      for (const step of pulumiSteps(job)) {
        t.match(step.with?.['pulumi-version'], /^\d+\.\d+\.\d+$/, `${name}/${id}: pulumi-version`);
        versions.add(step.with?.['pulumi-version']);
      }
    }
  }
  t.equal(versions.size, 1, 'the same version everywhere');
  const sdk = (
    JSON.parse(readFileSync(resolve(ROOT, 'infrastructure/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    }
  ).dependencies['@pulumi/pulumi'];
  t.same([...versions], [sdk], 'the CLI release of the SDK the program uses');
  t.end();
});

void t.test('no BUILDX_NO_DEFAULT_ATTESTATIONS: docker-build turns provenance off itself', (t) => {
  for (const { name, source } of allWorkflows) t.notMatch(source, /BUILDX_NO_DEFAULT_ATTESTATIONS/, name);
  t.end();
});

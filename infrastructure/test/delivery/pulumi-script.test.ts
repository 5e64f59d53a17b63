// `npm run pulumi -- …` runs the Pulumi CLI found on PATH with the project's Node first on PATH; `npm exec
// -- pulumi` would offer to install the unrelated npm package `pulumi` instead, so no doc may say it.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const SKIPPED = new Set(['node_modules', '.git', '.data', '.bench', 'dist', 'coverage', '.tap']);

async function textFiles(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name)) continue;
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) found.push(...(await textFiles(full)));
    else if (/\.(md|js|mjs|ts|ya?ml|json)$/.test(entry.name)) found.push(full);
  }
  return found;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function npmRun(args: string[], pathValue: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', ...args],
      { cwd: repoRoot, env: { ...process.env, PATH: pathValue } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** PATH without any folder that holds a `pulumi` (there is none on these machines; a laptop may have one). */
async function pathWithoutPulumi(): Promise<string> {
  const kept: string[] = [];
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    const entries = await readdir(folder).catch(() => [] as string[]);
    if (!entries.includes('pulumi')) kept.push(folder);
  }
  return kept.join(path.delimiter);
}

t.test('no doc or message tells people to run `npm exec -- pulumi` or `npx pulumi`', async (t) => {
  const offenders: string[] = [];
  for (const file of await textFiles(repoRoot)) {
    if (file === import.meta.filename) continue;
    const text = await readFile(file, 'utf8');
    if (/npm exec (-- )?pulumi|npx pulumi/.test(text)) offenders.push(path.relative(repoRoot, file));
  }
  t.same(offenders, []);
});

t.test(
  '`npm run pulumi -- …` runs the CLI on PATH with its arguments and status, under the project Node',
  async (t) => {
    const bin = await mkdtemp(path.join(tmpdir(), 'fake-pulumi-'));
    t.teardown(() => rm(bin, { recursive: true, force: true }));
    // A stand-in CLI: says what it got and which node Pulumi would start the program with.
    await writeFile(
      path.join(bin, 'pulumi'),
      '#!/bin/sh\nprintf \'%s\\n\' "args:$*" "node:$(node -p process.versions.node)" "cwd:$PWD"\nexit 3\n',
    );
    await chmod(path.join(bin, 'pulumi'), 0o755);
    const result = await npmRun(
      ['pulumi', '--', 'preview', '--stack', 'dev', '--message', 'two words'],
      `${bin}${path.delimiter}${await pathWithoutPulumi()}`,
    );
    t.equal(result.code, 3, "the CLI's exit status comes back");
    const lines = result.stdout.trim().split('\n');
    t.equal(lines[0], 'args:preview --stack dev --message two words');
    const [major = 0, minor = 0] = (lines[1]?.slice('node:'.length) ?? '').split('.').map(Number);
    t.ok(major > 22 || (major === 22 && minor >= 18), `the project's Node comes first on PATH (${lines[1]})`);
    t.equal(lines[2], `cwd:${repoRoot}`, 'from the repository root, where Pulumi.yaml is');
  },
);

t.test('without the CLI on PATH it says what to install', async (t) => {
  const result = await npmRun(['pulumi', '--', 'preview'], await pathWithoutPulumi());
  t.not(result.code, 0);
  t.match(result.stderr, /Pulumi CLI is not on PATH/);
  t.match(result.stderr, 'https://www.pulumi.com/docs/iac/download-install/');
});

// The tracked and new files of this work tree in a temporary folder, node_modules linked, and a way to run
// commands there without the outer tap run's hooks: for tests of commands that rewrite the project.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../tools/free-port.ts';
import type { Teardown } from './teardown.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

export interface Run {
  code: number;
  output: string;
}

/** The copy's root; its development database (the migration generator's) gets a port of its own. */
export async function copyWorkTree(t: Teardown) {
  const parent = await mkdtemp(path.join(tmpdir(), 'work-tree-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  // The test databases run as the postgres OS user when this runs as root.
  await chmod(parent, 0o755);
  const root = path.join(parent, 'clone');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file !== '' && existsSync(path.join(repoRoot, file)));
  for (const file of files) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await cp(path.join(repoRoot, file), path.join(root, file), { verbatimSymlinks: true });
  }
  for (const folder of ['node_modules', 'service/node_modules', 'infrastructure/node_modules']) {
    if (existsSync(path.join(repoRoot, folder)))
      await symlink(path.join(repoRoot, folder), path.join(root, folder));
  }
  // The outer tap's hooks and reporter variables would take over the runs inside the copy.
  const env = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !/^(?:_?TAP|NODE_OPTIONS$|NODE_V8_COVERAGE$)/i.test(name),
      ),
    ),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
  };
  const run = (command: string, args: string[], cwd = root): Promise<Run> =>
    new Promise((resolve) => {
      execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: `${stdout}${stderr}` });
      });
    });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env, encoding: 'utf8' });
  return { root, serviceDir: path.join(root, 'service'), env, run, git };
}

/** Every test file of that name under service/test/, wherever the suite keeps it. */
export function testFiles(serviceDir: string, names: string[]): string[] {
  const found = (readdirSync(path.join(serviceDir, 'test'), { recursive: true }) as string[]).filter((file) =>
    names.includes(path.basename(file)),
  );
  return found.map((file) => path.join('test', file));
}

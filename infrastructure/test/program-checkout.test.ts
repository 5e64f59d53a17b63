// The program's inputs do not depend on where the repository is checked out (docker-build rebuilds and
// re-pushes when `context.location` changes): every scenario from two clone folders, same inputs.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { repositoryRoot } from './fixtures/program.ts';
import type { ScenarioResource } from './fixtures/run-scenario.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

/** What the program reads: its own folder, the Pulumi project files and the Dockerfile; packages linked. */
async function clone(): Promise<string> {
  const parent = await mkdtemp(path.join(tmpdir(), 'checkout-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const root = path.join(parent, 'clone');
  await mkdir(root);
  await symlink(path.join(repositoryRoot, 'node_modules'), path.join(root, 'node_modules'));
  for (const entry of await readdir(repositoryRoot)) {
    if (/^Pulumi(\.[\w-]+)?\.yaml$/.test(entry) || entry === 'package.json') {
      await cp(path.join(repositoryRoot, entry), path.join(root, entry));
    }
  }
  await cp(path.join(repositoryRoot, 'docker'), path.join(root, 'docker'), { recursive: true });
  await cp(path.join(repositoryRoot, 'infrastructure'), path.join(root, 'infrastructure'), {
    recursive: true,
    filter: (source) => !source.includes(`${path.sep}node_modules`),
  });
  return root;
}

async function run(root: string, scenario: string): Promise<Map<string, ScenarioResource>> {
  const runner = path.join(root, 'infrastructure', 'test', 'fixtures', 'run-scenario.ts');
  // Started elsewhere on purpose: the runner moves to the working directory the CLI would give it.
  const { stdout } = await promisify(execFile)(process.execPath, [runner, scenario], {
    cwd: tmpdir(),
    maxBuffer: 64 * 1024 * 1024,
  });
  const resources = JSON.parse(stdout) as ScenarioResource[];
  return new Map(resources.map((resource) => [resource.urn, resource]));
}

const [first, second] = await Promise.all([clone(), clone()]);

for (const scenario of Object.keys(SCENARIOS)) {
  t.test(`${scenario}: every resource's inputs are the same from two checkouts`, async (t) => {
    const [a, b] = await Promise.all([run(first, scenario), run(second, scenario)]);
    t.same([...b.keys()].sort(), [...a.keys()].sort(), 'the same resources');
    for (const [urn, resource] of a) {
      t.same(b.get(urn)?.inputs, resource.inputs, urn.slice(urn.lastIndexOf('::') + 2));
    }
  });
}

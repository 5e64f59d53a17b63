// Two builds of one commit write byte-identical files (any difference is a new image digest and a redeploy),
// and the snapshot builder warns only about the three built-ins docs/container.md explains.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SNAPSHOT_BUILD_ARGS } from '../../tools/snapshot-build-args.ts';

const serviceDir = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

async function build(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bundle-reproducible-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await run(process.execPath, ['scripts/build.ts'], {
    cwd: serviceDir,
    env: { ...process.env, BUILD_OUT_DIR: dir },
  });
  return dir;
}

async function digests(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
  const result: Record<string, string> = {};
  for (const file of files) {
    result[file] = createHash('sha256')
      .update(await readFile(path.join(dir, file)))
      .digest('hex');
  }
  return result;
}

// At the same time, as the concurrent resolve callbacks of one build race each other anyway.
const [first, second] = await Promise.all([build(), build()]);

t.test('two builds write the same files, byte for byte', async (t) => {
  const [a, b] = await Promise.all([digests(first), digests(second)]);
  t.ok(Object.keys(a).includes('snapshot.cjs') && Object.keys(a).includes('snapshot-lazy.cjs'));
  t.same(b, a);
});

t.test('the snapshot builder warns about exactly the built-ins docs/container.md explains', async (t) => {
  const { stderr } = await run(process.execPath, [...SNAPSHOT_BUILD_ARGS], { cwd: first });
  const modules = [...stderr.matchAll(/whether built-in module "([^"]+)" works in user snapshot/g)]
    .map((match) => match[1])
    .sort();
  t.same(modules, ['module', 'perf_hooks', 'worker_threads']);
});

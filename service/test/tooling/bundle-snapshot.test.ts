// The image's way of starting, from the V8 startup snapshot with no node_modules: every feature works as from
// main.mjs, and a blob that does not fit the binary is refused clearly (docs/container.md).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SNAPSHOT_BUILD_ARGS, SNAPSHOT_RUN_ARGS } from '../../tools/snapshot-build-args.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { freePort } from '../../tools/free-port.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { uniqueIsbn } from '../helpers/isbn.ts';
import { spawnCollecting, type Spawned } from '../helpers/spawned.ts';

const serviceDir = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

// Built apart from dist/, so that bundle.test.ts building there at the same time is not raced.
const bundleDir = await mkdtemp(path.join(tmpdir(), 'bundle-snapshot-'));
t.teardown(() => rm(bundleDir, { recursive: true, force: true }));
await run(process.execPath, ['scripts/build.ts'], {
  cwd: serviceDir,
  env: { ...process.env, BUILD_OUT_DIR: bundleDir },
});
await run(process.execPath, [...SNAPSHOT_BUILD_ARGS], { cwd: bundleDir });

const db = await startTestDatabase(t, { migrate: false });

interface Started extends Spawned {
  readonly port: number;
}

async function startFromSnapshot(
  env: Record<string, string>,
  blobArgs: readonly string[] = SNAPSHOT_RUN_ARGS,
) {
  const port = await freePort();
  const app = spawnCollecting(t, process.execPath, blobArgs, {
    cwd: bundleDir,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', APP_ENV: 'test', ...env },
  });
  return { ...app, port } satisfies Started;
}

async function waitForHealth(app: Started): Promise<Response> {
  const started = performance.now();
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${app.port}/health`);
      if (response.status === 200) return response;
    } catch {
      // Not listening yet.
    }
    if (app.child.exitCode !== null) throw new Error(`exited before serving:\n${app.output()}`);
    if (performance.now() - started > 15_000) throw new Error(`no /health within 15 s:\n${app.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('`migrate` from the blob applies migrations; then it serves the books round trip', async (t) => {
  const migrate = await run(process.execPath, [...SNAPSHOT_RUN_ARGS, 'migrate'], {
    cwd: bundleDir,
    env: { PATH: process.env.PATH, DATABASE_URL: db.url, APP_ENV: 'test' },
  });
  t.match(migrate.stdout, `applied ${migrations.length} migration(s)`, 'every committed migration');
  t.notMatch(migrate.stdout, /server (started|stopped)/, 'no server lifecycle: migrate never starts one');

  // Read at start, not at snapshot time: the version comes from this process's environment.
  // As Lambda runs it (it sets AWS_LAMBDA_RUNTIME_API): the events route exists only there.
  const app = await startFromSnapshot({
    DATABASE_URL: db.url,
    SERVICE_VERSION: '9.8.7-snapshot',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
  });
  const health = (await (await waitForHealth(app)).json()) as { data: { version: string } };
  t.equal(health.data.version, '9.8.7-snapshot', 'the environment of the started process');
  const base = `http://127.0.0.1:${app.port}`;

  const created = await fetch(`${base}/v1/books`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Snapshotted', author: 'V8', isbn: uniqueIsbn() }),
  });
  t.equal(created.status, 201);
  const { data } = (await created.json()) as { data: { id: string } };
  const read = await fetch(`${base}/v1/books/${data.id}`);
  t.equal(read.status, 200);
  t.match(await read.json(), { success: true, data: { id: data.id, title: 'Snapshotted' } });

  // Route validation (joi in hapi's place) and the error mapper's envelope with per-field details.
  const invalid = await fetch(`${base}/v1/books`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: '', author: 'V8', isbn: 'not an isbn', extra: 1 }),
  });
  t.equal(invalid.status, 400);
  const envelope = (await invalid.json()) as {
    success: boolean;
    errors: { field: string }[];
    traceId: string;
  };
  t.equal(envelope.success, false);
  t.ok(envelope.errors.length >= 3, 'every offending field (abortEarly: false)');
  t.ok(
    envelope.errors.some((error) => error.field === 'payload.isbn'),
    'named by field',
  );
  const unknownQuery = await fetch(`${base}/v1/books?bogus=1`);
  t.equal(unknownQuery.status, 400, 'unknown query parameters are rejected');
  t.equal((await fetch(`${base}/nowhere`)).status, 404);
  // A domain error thrown in snapshot-lazy.cjs (the ORM side) is mapped by the error plugin in the
  // snapshot: one DomainError class for both files.
  const missing = await fetch(`${base}/v1/books/00000000-0000-4000-8000-000000000000`);
  t.equal(missing.status, 404);
  t.match(await missing.json(), { success: false, code: Number });

  // The migration event loads its code from snapshot-lazy.cjs.
  const events = await fetch(`${base}/internal/events`, {
    method: 'POST',
    // As the adapter posts a pass-through event.
    headers: { 'content-type': 'application/json', 'x-amzn-request-context': 'null' },
    body: JSON.stringify({ action: 'migrate' }),
  });
  t.match(await events.json(), { success: true, data: { applied: [] } });

  app.child.kill('SIGTERM');
  t.equal((await app.exited).code, 0, 'SIGTERM drains and exits 0');
  const lines = app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; traceId?: string; res?: { statusCode: number } });
  t.ok(
    lines.some((line) => line.msg === 'server started'),
    'JSON log lines',
  );
  t.ok(
    lines.some((line) => line.traceId === envelope.traceId && line.res?.statusCode === 400),
    'the access log line carries the trace id the envelope returned',
  );
});

t.test('API keys are required where the config says so', async (t) => {
  const app = await startFromSnapshot({ DATABASE_URL: db.url, API_KEYS_REQUIRED: '1' });
  await waitForHealth(app);
  const response = await fetch(`http://127.0.0.1:${app.port}/v1/books`);
  t.equal(response.status, 401);
  t.match(await response.json(), { success: false, data: null });
  const wrongKey = await fetch(`http://127.0.0.1:${app.port}/v1/books`, {
    headers: { 'x-api-key': 'not-a-key' },
  });
  t.equal(wrongKey.status, 401);
  app.child.kill('SIGTERM');
  t.equal((await app.exited).code, 0);
});

t.test('a bad environment is named, not a stack trace, and exits 1', async (t) => {
  const app = await startFromSnapshot({ DATABASE_URL: db.url, PORT: 'eighty', LOG_LEVEL: 'loud' });
  const { code } = await app.exited;
  t.equal(code, 1);
  t.match(app.output(), /Invalid configuration: .*"PORT" must be a number.*"LOG_LEVEL"/);
  t.notMatch(app.output(), /\n\s+at /, 'no stack');
});

t.test('a blob built by another node is refused with a clear message', async (t) => {
  // Node compares the blob's recorded version with its own before running anything (SnapshotData::Check
  // in node_snapshotable.cc): "Failed to load the startup snapshot because it was built with Node.js
  // version … and the current Node.js version is …", exit code 14 (kStartupSnapshotFailure).
  const blob = await readFile(path.join(bundleDir, 'snapshot.blob'));
  const version = Buffer.from(process.versions.node);
  const at = blob.indexOf(version);
  t.ok(at > 0, 'the blob records the node version that built it');
  const other = Buffer.from(
    process.versions.node.replace(/^\d+/, (major) => String((Number(major) + 1) % 100)),
  );
  t.equal(other.length, version.length);
  other.copy(blob, at);
  const foreign = path.join(bundleDir, 'foreign.blob');
  await writeFile(foreign, blob);

  const app = await startFromSnapshot({ DATABASE_URL: db.url }, ['--snapshot-blob', foreign]);
  const { code } = await app.exited;
  t.equal(code, 14);
  t.match(app.output(), /Failed to load the startup snapshot because it was built with/);
});

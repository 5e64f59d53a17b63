// What the V8 startup snapshot freezes (docs/container.md#cold-start-the-startup-snapshot): the real blob in
// separate processes, and a fixture pinning what Node and V8 refresh, so the service's assertions can fail.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SNAPSHOT_BUILD_ARGS, SNAPSHOT_RUN_ARGS } from '../../tools/snapshot-build-args.ts';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { freePort } from '../../tools/free-port.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { uniqueIsbn } from '../helpers/isbn.ts';
import { spawnCollecting, type Spawned } from '../helpers/spawned.ts';

const serviceDir = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const bundleDir = await mkdtemp(path.join(tmpdir(), 'snapshot-state-'));
t.teardown(() => rm(bundleDir, { recursive: true, force: true }));
await run(process.execPath, ['scripts/build.ts'], {
  cwd: serviceDir,
  env: { ...process.env, BUILD_OUT_DIR: bundleDir },
});
const snapshotSource = await readFile(path.join(bundleDir, 'snapshot.cjs'), 'utf8');

// The blob is built in an environment unlike any run's: none of it may reach the blob or a started process.
const BUILD_CANARY = `build-only-${randomBytes(8).toString('hex')}`;
const BUILD_ENV = {
  PATH: process.env.PATH,
  SNAPSHOT_STATE_CANARY: BUILD_CANARY,
  DATABASE_URL: `postgres://builder:${BUILD_CANARY}@build-host:5432/build`,
  APP_ENV: 'dev',
  LOG_LEVEL: 'silent',
  API_KEYS_REQUIRED: '1',
  PORT: '1',
  TZ: 'Pacific/Kiritimati',
};
await run(process.execPath, [...SNAPSHOT_BUILD_ARGS], { cwd: bundleDir, env: BUILD_ENV });

const db = await startTestDatabase(t);

/** Builds `name`.blob in the bundle folder from `head` followed by the service's snapshot entry. */
async function buildVariant(name: string, head: string): Promise<{ stderr: string; blob: string }> {
  await writeFile(path.join(bundleDir, `${name}.cjs`), `${head}\n${snapshotSource}`);
  await writeFile(
    path.join(bundleDir, `${name}.json`),
    JSON.stringify({ builder: `${name}.cjs`, withoutCodeCache: true }),
  );
  const blob = `${name}.blob`;
  const { stderr } = await run(
    process.execPath,
    ['--snapshot-blob', blob, '--build-snapshot-config', `${name}.json`],
    { cwd: bundleDir, env: BUILD_ENV },
  );
  return { stderr, blob };
}

interface Started extends Spawned {
  readonly base: string;
}

async function start(env: Record<string, string>, blob = 'snapshot.blob'): Promise<Started> {
  const port = await freePort();
  const app = spawnCollecting(t, process.execPath, ['--snapshot-blob', blob], {
    cwd: bundleDir,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: db.url, ...env },
  });
  const base = `http://127.0.0.1:${port}`;
  for (const started = performance.now(); ;) {
    try {
      if ((await fetch(`${base}/health`)).status === 200) return { ...app, base };
    } catch {
      // Not listening yet.
    }
    if (app.child.exitCode !== null) throw new Error(`exited before serving:\n${app.output()}`);
    if (performance.now() - started > 15_000) throw new Error(`no /health within 15 s:\n${app.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface LogLine {
  readonly pid?: number;
  readonly hostname?: string;
  readonly env?: string;
  readonly msg?: string;
  readonly signal?: string;
  readonly id?: string;
}

const logLines = (app: Spawned): LogLine[] =>
  app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

t.test('Node keeps randomUUID batch and captured values, refreshes the rest', async (t) => {
  // The fixture calls randomUUID and reads the environment while its blob is built.
  const probeDir = await mkdtemp(path.join(tmpdir(), 'snapshot-probe-'));
  t.teardown(() => rm(probeDir, { recursive: true, force: true }));
  await copyFile(
    path.join(import.meta.dirname, '../fixtures/snapshot-state-probe.cjs'),
    path.join(probeDir, 'probe.cjs'),
  );
  const canary = `probe-${randomBytes(8).toString('hex')}`;
  await run(process.execPath, ['--snapshot-blob', 'probe.blob', '--build-snapshot', 'probe.cjs'], {
    cwd: probeDir,
    env: { PATH: process.env.PATH, SNAPSHOT_PROBE: canary, TZ: 'Pacific/Kiritimati' },
  });
  t.ok(
    (await readFile(path.join(probeDir, 'probe.blob'))).includes(canary),
    'a captured value is in the blob',
  );

  const startProbe = async () => {
    const { stdout } = await run(
      process.execPath,
      ['--snapshot-blob', path.join(probeDir, 'probe.blob'), 'migrate'],
      {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH, SNAPSHOT_PROBE: 'run', TZ: 'Asia/Tokyo' },
      },
    );
    return JSON.parse(stdout) as Record<'built' | 'started', Record<string, unknown>>;
  };
  const [first, second] = [await startProbe(), await startProbe()];
  t.equal(first.started.uuid, second.started.uuid, 'randomUUID: every start continues the same batch');
  t.not(first.started.random, second.started.random, 'Math.random: V8 reseeds');
  t.equal(first.built.probeVariable, canary, 'a value read at build time stays');
  t.equal(first.started.probeVariable, 'run', 'process.env is the running process');
  t.same(first.started.argv, ['migrate'], 'process.argv is the running process ([node, ...arguments])');
  t.equal(first.started.cwd, tmpdir(), 'process.cwd() is the running process');
  t.not(first.started.pid, first.built.pid, 'process.pid is the running process');
  t.equal(first.started.timezoneOffset, -540, 'the time zone (TZ) is the running process');
});

t.test('the service blob holds nothing of its build environment', async (t) => {
  const blob = await readFile(path.join(bundleDir, 'snapshot.blob'));
  t.notOk(blob.includes(BUILD_CANARY), 'no build-time variable (DATABASE_URL password included) in the blob');
});

t.test('building the blob reads no environment variable of the service', async (t) => {
  // Module-level reads of process.env would freeze the build's value into every start.
  const traced = await buildVariant(
    'traced',
    `{ const real = process.env; const read = new Set();
       process.env = new Proxy(real, { get(target, key) { if (typeof key === 'string') read.add(key); return Reflect.get(target, key); } });
       require('node:v8').startupSnapshot.addSerializeCallback(() => {
         process.env = real;
         require('node:fs').writeSync(2, 'ENV READ AT BUILD: ' + JSON.stringify([...read]) + '\\n');
       }); }`,
  );
  const read = JSON.parse(/ENV READ AT BUILD: (.*)/.exec(traced.stderr)?.[1] ?? 'null') as string[] | null;
  t.ok(Array.isArray(read), 'the tracer ran while the blob was built');
  // FORCE_COLOR: Node's own warning printer (the "module" builtin warning); NODE_V8_COVERAGE: pino's
  // on-exit-leak-free, whether to use a FinalizationRegistry. Neither is service configuration.
  t.same(
    (read ?? []).filter((name) => !['FORCE_COLOR', 'NODE_V8_COVERAGE'].includes(name)),
    [],
    'only Node and pino internals',
  );
});

t.test('two starts from one blob: their own ids, keys, environment, pid and signals', async (t) => {
  const runtimeEnv = { APP_ENV: 'test', LOG_LEVEL: 'info', AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' };
  const apps = [await start(runtimeEnv), await start(runtimeEnv)] as const;
  const traceIds: string[] = [];
  const keys: string[] = [];
  for (const app of apps) {
    const health = await fetch(`${app.base}/health`);
    traceIds.push(health.headers.get('x-request-id') ?? '');
    // API_KEYS_REQUIRED=1 was set only while the blob was built.
    t.equal((await fetch(`${app.base}/v1/books`)).status, 200, 'no API key required: the run-time config');
    // AWS_LAMBDA_RUNTIME_API is set only at run time; it turns on the events route.
    const created = await fetch(`${app.base}${EVENTS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amzn-request-context': 'null' },
      body: JSON.stringify({ action: 'keys.create', name: 'snapshot-state' }),
    });
    t.equal(created.status, 200, 'the events route exists');
    keys.push(((await created.json()) as { data: { key: string } }).data.key);
  }
  t.match(traceIds[0], UUID);
  t.match(traceIds[1], UUID);
  t.not(traceIds[0], traceIds[1], 'trace ids (randomUUID) differ between starts');
  t.not(keys[0], keys[1], 'API keys (randomBytes) differ between starts');
  t.not(keys[0]?.slice(0, 15), keys[1]?.slice(0, 15), 'and so do their prefixes');

  for (const app of apps) {
    app.child.kill('SIGTERM');
    t.equal((await app.exited).code, 0, 'SIGTERM drains and exits 0');
    const lines = logLines(app);
    t.ok(
      lines.some((line) => line.msg === 'server started'),
      'JSON log lines on fd 1 (written synchronously)',
    );
    t.ok(
      lines.some((line) => line.msg === 'shutting down' && line.signal === 'SIGTERM'),
      'the signal handler of this process',
    );
    // hapi names its server `<hostname>:<pid>:<start time>` (lib/core.js) when the server is built,
    // at run time; the service's log lines carry no pid of their own (its pino base replaces pino's).
    t.ok(
      lines.some(
        (line) => line.msg === 'server started' && line.id?.startsWith(`${hostname()}:${app.child.pid}:`),
      ),
      'hapi server id: this host and this process',
    );
    t.ok(
      lines.every((line) => line.pid === undefined && line.env === 'test'),
      'every line carries the run-time APP_ENV and no build-time pid',
    );
    t.notMatch(app.output(), BUILD_CANARY, 'nothing of the build environment');
  }
});

t.test('the command comes from the run-time arguments', async (t) => {
  const bogus = spawnCollecting(t, process.execPath, [...SNAPSHOT_RUN_ARGS, 'bogus'], {
    cwd: bundleDir,
    env: { PATH: process.env.PATH, DATABASE_URL: db.url },
  });
  t.equal((await bogus.exited).code, 1);
  t.match(bogus.output(), 'unknown command "bogus"');
});

// REAL BUG, kept as a TODO assertion until COLD-START fixes it: book.schemas.ts evaluates
// `.max(new Date().getUTCFullYear() + 1)` when the module runs, which from the snapshot is when the image
// was built, so every container rejects next year's books once the image is more than a year old.
t.test("a book's publishedYear limit follows today's date, not the blob's build date", async (t) => {
  // The image was built in 2020: the clock is set back while, and only while, the blob is built.
  const past = await buildVariant(
    'built-in-2020',
    `{ const RealDate = Date; let building = true; const builtAt = RealDate.UTC(2020, 5, 1);
       globalThis.Date = class extends RealDate {
         constructor(...args) { if (building && args.length === 0) super(builtAt); else super(...args); }
         static now() { return building ? builtAt : RealDate.now(); }
       };
       require('node:v8').startupSnapshot.addDeserializeCallback(() => { building = false; globalThis.Date = RealDate; }); }`,
  );
  const nextYear = new Date().getUTCFullYear() + 1;
  const createBook = (app: Started) =>
    fetch(`${app.base}/v1/books`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Next year', author: 'V8', isbn: uniqueIsbn(), publishedYear: nextYear }),
    });
  for (const blob of ['snapshot.blob', past.blob]) {
    const app = await start({ APP_ENV: 'test' }, blob);
    const created = await createBook(app);
    t.equal(created.status, 201, `${blob}: publishedYear ${nextYear} is accepted`);
    if (created.status !== 201) t.comment(await created.text());
    app.child.kill('SIGTERM');
    t.equal((await app.exited).code, 0);
  }
});

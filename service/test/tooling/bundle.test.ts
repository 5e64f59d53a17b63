// The built bundle as a real process, from a folder with no node_modules anywhere above it: it serves,
// migrates, answers liveness before the database is reachable, and drains in-flight requests on SIGTERM.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { freePort } from '../../tools/free-port.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { uniqueIsbn } from '../helpers/isbn.ts';

const serviceDir = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

await run(process.execPath, ['scripts/build.ts'], { cwd: serviceDir });
const bundleDir = await mkdtemp(path.join(tmpdir(), 'bundle-'));
t.teardown(() => rm(bundleDir, { recursive: true, force: true }));
const bundle = path.join(bundleDir, 'main.mjs');
// The entry and its chunks (code splitting), as the image copies them.
await cp(path.join(serviceDir, 'dist'), bundleDir, { recursive: true });

const db = await startTestDatabase(t, { migrate: false });

interface Started {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startBundle(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [bundle], {
    cwd: bundleDir,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', APP_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    }),
  );
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  return { child, port, output: () => output, exited };
}

async function waitForHealth(port: number, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      if (response.status === 200) return performance.now() - started;
    } catch {
      // Not listening yet.
    }
    if (performance.now() - started > timeoutMs)
      throw new Error(`no /health on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('liveness answers 200 before the database is even reachable', async (t) => {
  const closedPort = await freePort();
  const app = await startBundle({
    DATABASE_URL: `postgres://u:p@127.0.0.1:${closedPort}/app`,
    DATABASE_CONNECT_TIMEOUT_MS: '500',
  });
  const readyAfter = await waitForHealth(app.port);
  t.ok(readyAfter < 10_000, `healthy after ${Math.round(readyAfter)} ms`);
  const ready = await fetch(`http://127.0.0.1:${app.port}/health/ready`);
  t.equal(ready.status, 503, 'readiness tells the truth about the database');
  const body = (await ready.json()) as { code: number };
  t.equal(body.code, 5031);
  app.child.kill('SIGTERM');
  t.equal((await app.exited).code, 0);
});

t.test('`main.mjs migrate` applies migrations, then the bundle serves a books round trip', async (t) => {
  const migrate = await run(process.execPath, [bundle, 'migrate'], {
    cwd: bundleDir,
    env: { PATH: process.env.PATH, DATABASE_URL: db.url, APP_ENV: 'test' },
  });
  t.match(migrate.stdout, `applied ${migrations.length} migration(s)`, 'every committed migration');

  // As Lambda runs it (it sets AWS_LAMBDA_RUNTIME_API): the events route exists only there.
  const app = await startBundle({ DATABASE_URL: db.url, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' });
  await waitForHealth(app.port);
  const base = `http://127.0.0.1:${app.port}`;
  const created = await fetch(`${base}/v1/books`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Bundled', author: 'esbuild', isbn: uniqueIsbn() }),
  });
  t.equal(created.status, 201);
  const { data } = (await created.json()) as { data: { id: string } };
  const read = await fetch(`${base}/v1/books/${data.id}`);
  t.equal(read.status, 200);
  t.equal(read.headers.get('content-type'), 'application/json; charset=utf-8');
  // Binary bodies cross a real socket intact, with their content type.
  const image = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    randomBytes(50_000),
  ]);
  const put = await fetch(`${base}/v1/books/${data.id}/cover`, {
    method: 'PUT',
    headers: { 'content-type': 'image/png' },
    body: image,
  });
  t.equal(put.status, 200);
  const cover = await fetch(`${base}/v1/books/${data.id}/cover`);
  t.equal(cover.headers.get('content-type'), 'image/png');
  t.ok(Buffer.from(await cover.arrayBuffer()).equals(image), 'the cover comes back byte for byte');
  const spec = await fetch(`${base}/openapi.json`);
  t.equal(spec.status, 200, 'the OpenAPI document is served from the bundle');
  const document = (await spec.json()) as { paths: Record<string, unknown> };
  t.ok(document.paths['/v1/books/{id}/cover'], 'the document baked at build time describes the routes');
  const events = await fetch(`${base}/internal/events`, {
    method: 'POST',
    // As the adapter posts a pass-through event.
    headers: { 'content-type': 'application/json', 'x-amzn-request-context': 'null' },
    body: JSON.stringify({ action: 'migrate' }),
  });
  t.match(await events.json(), { success: true, data: { applied: [] } });
  app.child.kill('SIGTERM');
  t.equal((await app.exited).code, 0);
});

t.test('SIGTERM lets slow in-flight requests finish, then exits 0 well within 2 s', async (t) => {
  const app = await startBundle({ DATABASE_URL: db.url });
  await waitForHealth(app.port);

  // Two requests whose bodies arrive slowly: they are in flight when SIGTERM lands.
  const slowCreate = (title: string) => {
    const body = JSON.stringify({ title, author: 'Slow', isbn: uniqueIsbn() });
    const req = httpRequest({
      host: '127.0.0.1',
      port: app.port,
      method: 'POST',
      path: '/v1/books',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const status = new Promise<number>((resolve, reject) => {
      req.on('response', (response) => {
        response.resume();
        response.on('end', () => {
          resolve(response.statusCode ?? 0);
        });
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 10));
    return { status, finish: () => req.end(body.slice(10)) };
  };
  const first = slowCreate('First');
  const second = slowCreate('Second');
  await new Promise((resolve) => setTimeout(resolve, 100));

  const signalledAt = performance.now();
  app.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  // New connections are refused while draining.
  await t.rejects(fetch(`http://127.0.0.1:${app.port}/health`), 'no new connections after SIGTERM');
  first.finish();
  second.finish();
  t.same(await Promise.all([first.status, second.status]), [201, 201], 'both in-flight requests completed');

  const { code } = await app.exited;
  const elapsed = performance.now() - signalledAt;
  t.equal(code, 0, 'exit code 0');
  t.ok(elapsed < 2000, `exited ${Math.round(elapsed)} ms after SIGTERM`);
  t.match(app.output(), /shutting down/);
  t.match(app.output(), /server stopped/);
});

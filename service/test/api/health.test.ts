// Liveness never needs the database; readiness and data routes answer 503 while it is down and
// recover, without a restart, when it returns.
import t, { type Test } from 'tap';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer } from '../helpers/server.ts';

const db = await startTestDatabase(t);
const serverFor = async (t: Test) => {
  const app = await buildServer(t, {
    DATABASE_URL: db.url,
    DATABASE_CONNECT_TIMEOUT_MS: '1000',
    DATABASE_QUERY_TIMEOUT_MS: '1000',
    SERVICE_VERSION: '1.2.3',
  });
  await addFixtureModule(app.server);
  return app;
};
const app = await serverFor(t);

t.test('liveness reports version, environment and uptime', async (t) => {
  const { status, body } = await app.json('/health');
  t.equal(status, 200);
  t.match(body, {
    success: true,
    data: { status: 'ok', version: '1.2.3', environment: 'test', uptimeSeconds: Number },
  });
});

t.test('readiness proves the database answers', async (t) => {
  const { status, body } = await app.json('/health/ready');
  t.equal(status, 200);
  t.match(body, { success: true, data: { status: 'ready', database: { latencyMs: Number } } });
});

t.test('database down: 503 within seconds, liveness stays 200, then recovery', async (t) => {
  // Its own server: this test stops the database and writes to it.
  const app = await serverFor(t);
  const created = await app.json({
    method: 'POST',
    url: FIXTURE_PATH,
    payload: { title: 'Survivor' },
  });
  t.equal(created.status, 201);
  const id = (created.body.data as { id: string }).id;

  await db.stop();

  for (const url of ['/health/ready', `${FIXTURE_PATH}/${id}`, FIXTURE_PATH]) {
    const started = performance.now();
    const { status, body } = await app.json(url);
    const elapsed = performance.now() - started;
    t.equal(status, 503, `${url} → 503`);
    t.match(body, { success: false, code: 5031, data: null }, `${url} envelope`);
    t.ok(elapsed < 5000, `${url} answered in ${Math.round(elapsed)} ms`);
  }
  const live = await app.json('/health');
  t.equal(live.status, 200, 'liveness does not touch the database');

  await db.postgres.start();

  const ready = await app.json('/health/ready');
  t.equal(ready.status, 200, 'ready again without a restart');
  const note = await app.json(`${FIXTURE_PATH}/${id}`);
  t.equal(note.status, 200, 'data routes recover');
  t.match(note.body.data, { title: 'Survivor' });
});

// Strings PostgreSQL cannot store (NUL, lone surrogates) and inputs that make validation expensive are
// refused with a 400 that names the field, before any handler or the database sees them.
import t from 'tap';
import { ErrorCodes } from '../../src/errors/error-codes.ts';
import { MAX_FIELD_ERRORS } from '../../src/errors/classify-error.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer } from '../helpers/server.ts';

const db = await startTestDatabase(t);
const app = await buildServer(t, { DATABASE_URL: db.url });
await addFixtureModule(app.server);

const create = (payload: string) =>
  app.json({ method: 'POST', url: FIXTURE_PATH, payload, headers: { 'content-type': 'application/json' } });

t.test('a NUL character in a body string → 400 naming the field, not 503', async (t) => {
  const { status, body } = await create(JSON.stringify({ title: 'a\u0000b', tag: 'a' }));
  t.equal(status, 400);
  t.equal(body.code, ErrorCodes.VALIDATION_FAILED.code);
  t.match(body.errors, [{ field: 'payload.title', message: /NUL|control/ }]);
});

t.test('a NUL character in a query string → 400 naming the parameter', async (t) => {
  const { status, body } = await app.json(`${FIXTURE_PATH}?tag=a%00b`);
  t.equal(status, 400);
  t.match(body.errors, [{ field: 'query.tag' }]);
});

t.test('a NUL character in a key name → 400, never a 5xx', async (t) => {
  const { status, body } = await create('{"ti\\u0000tle":"x","tag":"a"}');
  t.equal(status, 400);
  t.equal(body.code, ErrorCodes.VALIDATION_FAILED.code);
});

t.test('a lone surrogate → 400 naming the field (UTF-8 cannot encode it)', async (t) => {
  for (const raw of ['\\ud800', 'x\\udfff', '\\udc00\\ud800']) {
    const { status, body } = await create(`{"title":"a${raw}","tag":"a"}`);
    t.equal(status, 400, raw);
    t.match(body.errors, [{ field: 'payload.title', message: /surrogate/ }], raw);
  }
  const paired = await create(`{"title":"\\ud83d\\udcda","tag":"a"}`);
  t.equal(paired.status, 201, 'a well-formed pair (an emoji) is fine');
});

t.test('lengths: joi counts UTF-16 units, varchar(200) characters; no length gives a 5xx', async (t) => {
  const fits = await create(JSON.stringify({ title: '📚'.repeat(100), tag: 'a' }));
  t.equal(fits.status, 201, '100 astral characters (200 units) fit');
  const over = await create(JSON.stringify({ title: '📚'.repeat(200), tag: 'a' }));
  t.equal(over.status, 400, '200 astral characters are 400 units: refused by validation, not the database');
});

t.test('90,000 unknown keys: a bounded 400, field errors capped', async (t) => {
  const payload = JSON.stringify(Object.fromEntries(Array.from({ length: 90_000 }, (_, i) => [`k${i}`, 1])));
  for (const url of [FIXTURE_PATH, `${FIXTURE_PATH}/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`]) {
    const started = performance.now();
    const response = await app.inject({
      method: url === FIXTURE_PATH ? 'POST' : 'PATCH',
      url,
      payload,
      headers: { 'content-type': 'application/json' },
    });
    const body = JSON.parse(response.payload) as { code: number; errors?: unknown[]; message: string };
    t.equal(response.statusCode, 400, url);
    t.ok((body.errors ?? []).length <= MAX_FIELD_ERRORS, `${url}: at most ${MAX_FIELD_ERRORS} field errors`);
    t.ok(response.payload.length < 10_000, `${url}: a small answer`);
    t.comment(
      `${url}: request ${payload.length} bytes → ${response.statusCode}, ${response.payload.length} bytes in ${Math.round(performance.now() - started)} ms`,
    );
  }
});

t.test('many field errors: the first MAX_FIELD_ERRORS, and the message counts the rest', async (t) => {
  const payload = JSON.stringify(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 1])));
  const { status, body } = await create(payload);
  t.equal(status, 400);
  t.equal(body.errors?.length, MAX_FIELD_ERRORS);
  t.match(body.message, /more/);
});

// The books module's maintenance task: a scheduled pass-through event purges books deleted before the
// retention window (DELETED_RETENTION_DAYS) and keeps the recently deleted ones.
import t, { type Test } from 'tap';
import { EVENTS_PATH } from '../../../src/plugins/lambda-events.ts';
import { PASS_THROUGH_HEADERS, SCHEDULED_EVENT } from '../../fixtures/lambda.ts';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { buildServer, type Envelope } from '../../helpers/server.ts';

const db = await startTestDatabase(t);
const freshServer = (t: Test) => buildServer(t, { DATABASE_URL: db.url, DELETED_RETENTION_DAYS: '7' });

t.test('pass-through: scheduled event purges books deleted before the retention window', async (t) => {
  const app = await freshServer(t);
  const created = await Promise.all(
    [1, 2, 3].map((n) =>
      app.json<Envelope<{ id: string }>>({
        method: 'POST',
        url: '/v1/books',
        payload: { title: `T${n}`, author: 'Purge', isbn: uniqueIsbn() },
      }),
    ),
  );
  const [old, recent, live] = created.map((c) => c.body.data.id);
  await app.inject({ method: 'DELETE', url: `/v1/books/${old}` });
  await app.inject({ method: 'DELETE', url: `/v1/books/${recent}` });
  const orm = await app.server.plugins.database.getOrm();
  await orm.em
    .getConnection()
    .execute(`update books set deleted_at = now() - interval '8 days' where id = ?`, [old]);

  const { status, body } = await app.json<Envelope<{ tasks: Record<string, { purged: number }> }>>({
    method: 'POST',
    url: EVENTS_PATH,
    payload: SCHEDULED_EVENT,
    headers: PASS_THROUGH_HEADERS,
  });
  t.equal(status, 200);
  t.equal(body.data.tasks['books.purgeDeleted']?.purged, 1, 'only the book deleted 8 days ago (retention 7)');
  const rows = await orm.em
    .getConnection()
    .execute<{ id: string }[]>(`select id from books where id in (?, ?, ?)`, [old, recent, live]);
  t.same(
    rows.map((r) => r.id).sort(),
    [recent, live].sort(),
    'the recently deleted book is still recoverable',
  );
});

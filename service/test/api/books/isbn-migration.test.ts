// The ISBN-13 migration on a database holding both forms of one book: every row ends up ISBN-13, the
// oldest live copy stays live, later live copies are soft-deleted (not removed), deleted rows are converted.
import t from 'tap';
import { migrations } from '../../../src/db/migrations/index.ts';
import { withOrm } from '../../../tools/with-orm.ts';
import { startTestDatabase } from '../../helpers/database.ts';

const MIGRATION = 'Migration20261207100438_isbn_13';
const db = await startTestDatabase(t, { migrate: false });

t.test('ISBN-10 rows become ISBN-13; of two live copies of one book the oldest stays live', async (t) => {
  await withOrm({ DATABASE_URL: db.url }, {}, async ({ orm }) => {
    const before = migrations[migrations.findIndex((m) => m.name === MIGRATION) - 1]?.name;
    await orm.migrator.up({ to: before });
    const sql = orm.em.getConnection();
    const rows: [string, string, string, string | null][] = [
      // id, isbn, created_at, deleted_at
      ['00000000-0000-4000-8000-000000000001', '0441013597', '2026-01-01', null], // oldest live: kept
      ['00000000-0000-4000-8000-000000000002', '9780441013593', '2026-01-02', null], // same book, later
      ['00000000-0000-4000-8000-000000000003', '9780262510875', '2026-01-01', null], // ISBN-13 first...
      ['00000000-0000-4000-8000-000000000004', '0262510871', '2026-01-03', null], // ...its ISBN-10 later
      ['00000000-0000-4000-8000-000000000005', '080442957X', '2026-01-01', null], // alone, X check digit
      ['00000000-0000-4000-8000-000000000006', '0441013597', '2025-01-01', '2025-06-01'], // deleted long ago
      ['00000000-0000-4000-8000-000000000007', '9791090636071', '2026-01-01', null], // 979: no ISBN-10
    ];
    for (const [id, isbn, created, deleted] of rows) {
      await sql.execute(
        `insert into books (id, title, author, isbn, created_at, updated_at, deleted_at) values (?, 't', 'a', ?, ?, ?, ?)`,
        [id, isbn, created, created, deleted],
      );
    }
    // The later copy's cover: kept with its soft-deleted book, for an operator who swaps them.
    await sql.execute(
      `insert into book_covers (book_id, content_type, data, sha256, updated_at) values (?, 'image/png', ?, 'x', now())`,
      ['00000000-0000-4000-8000-000000000002', Buffer.from('89504e470d0a1a0a', 'hex')],
    );
    await orm.migrator.up();

    const after = await sql.execute<{ id: string; isbn: string; live: boolean }[]>(
      `select id, isbn, deleted_at is null as live from books order by id`,
    );
    t.same(
      after.map((row) => [row.id.slice(-1), row.isbn, row.live]),
      [
        ['1', '9780441013593', true],
        ['2', '9780441013593', false],
        ['3', '9780262510875', true],
        ['4', '9780262510875', false],
        ['5', '9780804429573', true],
        ['6', '9780441013593', false],
        ['7', '9791090636071', true],
      ],
    );
    const deletedLongAgo = await sql.execute<{ deleted_at: string }[]>(
      `select deleted_at::text from books where id = '00000000-0000-4000-8000-000000000006'`,
    );
    t.match(deletedLongAgo[0]?.deleted_at, /^2025-06-01/, 'an already deleted row keeps its deletion time');
    await t.rejects(
      sql.execute(`update books set isbn = '0441013597' where id = '00000000-0000-4000-8000-000000000001'`),
      { code: '23514' },
      'the database itself refuses an ISBN-10 from now on',
    );
    const covers = await sql.execute<{ book_id: string }[]>(`select book_id from book_covers`);
    t.same(
      covers.map((row) => row.book_id.slice(-1)),
      ['2'],
      'the soft-deleted copy keeps its cover',
    );

    // Down drops the check only; up again changes nothing that is already canonical.
    await orm.migrator.down();
    await sql.execute(
      `update books set isbn = '0262510871' where id = '00000000-0000-4000-8000-000000000004'`,
    );
    await orm.migrator.up();
    const again = await sql.execute<{ id: string; isbn: string; live: boolean }[]>(
      `select id, isbn, deleted_at is null as live from books order by id`,
    );
    t.same(
      again.map((row) => [row.id.slice(-1), row.isbn, row.live]),
      after.map((row) => [row.id.slice(-1), row.isbn, row.live]),
      'down then up: the same rows, the same live copies',
    );
  });
});

// The committed migrations build exactly the schema the entities describe (a drift makes the next
// `db:migration:create` emit surprising SQL).
import t from 'tap';
import { migrations } from '../../src/db/migrations/index.ts';
import { withOrm } from '../../tools/with-orm.ts';
import { startTestDatabase } from '../helpers/database.ts';

const db = await startTestDatabase(t);

t.test('every committed migration is applied, and the schema matches the entities', async (t) => {
  await withOrm({ DATABASE_URL: db.url }, {}, async ({ orm }) => {
    const executed = await orm.migrator.getExecuted();
    t.same(
      executed.map((m) => m.name),
      migrations.map((m) => m.name),
    );
    const drift = await orm.schema.getUpdateSchemaSQL({ wrap: false });
    t.equal(drift.trim(), '', 'no SQL is needed to bring the database to the entities');
  });
});

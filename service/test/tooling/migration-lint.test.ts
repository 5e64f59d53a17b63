// The migration linter on fixture migrations of each destructive kind, on safe ones, on contract marks, and
// on the committed migrations; the SQL is what up() adds, parsed by PostgreSQL's parser.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { raw, type MigrationObject } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import pg from 'pg';
import t from 'tap';
import type { ContractStep } from '../../src/db/migrations/contract.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { formatFinding, lintMigrations, offlineOrm } from '../../tools/migration-lint.ts';
import { startTestDatabase } from '../helpers/database.ts';

const orm = await offlineOrm();
t.teardown(() => orm.close());

/** A migration class whose up() adds `sql`, named like a generated one, optionally marked. */
function fixture(
  sql: readonly string[],
  contract?: unknown,
  name = 'Migration20990101000000_fixture',
): MigrationObject {
  class Fixture extends Migration {
    static readonly contract = contract;
    override up(): void {
      for (const statement of sql) this.addSql(statement);
    }
  }
  return { name, class: Fixture };
}

const lint = (...list: MigrationObject[]) => lintMigrations(orm, list);

const DESTRUCTIVE: [string, string, string][] = [
  ['drop-table', 'drop table "books";', 'books'],
  ['drop-table', 'drop table if exists "books" cascade;', 'books'],
  ['drop-column', 'alter table "books" drop column "title";', 'books.title'],
  ['rename', 'alter table "books" rename column "title" to "name";', 'books.title'],
  ['rename', 'alter table "books" rename to "volumes";', 'books'],
  ['alter-type', 'alter table "books" alter column "isbn" type varchar(17);', 'books.isbn'],
  [
    'alter-type',
    'alter table "books" alter column "published_year" set data type bigint;',
    'books.published_year',
  ],
  ['set-not-null', 'alter table "books" alter column "published_year" set not null;', 'books.published_year'],
  ['add-not-null-column', 'alter table "books" add "edition" int not null;', 'books.edition'],
  ['add-not-null-column', 'alter table "books" add column "code" uuid primary key;', 'books.code'],
  ['drop-default', 'alter table "books" alter column "title" drop default;', 'books.title'],
  ['drop-default', 'alter table "books" alter column "title" set default null;', 'books.title'],
  ['add-not-null-column', 'alter table "books" add "edition" int not null default null;', 'books.edition'],
  ['rename', `alter type "book_status" rename value 'draft' to 'pending';`, 'book_status.draft'],
  ['drop-object', 'drop type "book_status";', 'book_status'],
  ['drop-object', 'drop domain if exists "isbn" cascade;', 'isbn'],
  [
    'tighten-constraint',
    `alter domain "isbn" add constraint "isbn_13" check (length(value) = 13);`,
    'isbn_13',
  ],
  ['set-not-null', 'alter domain "isbn" set not null;', 'isbn'],
  ['drop-constraint', 'alter table "books" drop constraint "books_isbn_check";', 'books_isbn_check'],
  ['drop-object', 'drop index "books_author_index";', 'books_author_index'],
  ['drop-object', 'drop index concurrently if exists "books_author_index";', 'books_author_index'],
  ['drop-object', 'drop view "live_books";', 'live_books'],
  [
    'tighten-constraint',
    `alter table "books" add constraint "books_title_check" check (title <> '');`,
    'books_title_check',
  ],
  [
    'tighten-constraint',
    'alter table "books" add constraint "books_title_unique" unique ("title");',
    'books_title_unique',
  ],
  [
    'tighten-constraint',
    'alter table "book_covers" add constraint "covers_fk" foreign key ("book_id") references "books" ("id");',
    'covers_fk',
  ],
  ['unique-index', 'create unique index "books_title_unique" on "books" ("title");', 'books_title_unique'],
  ['truncate', 'truncate "api_key_usage";', 'api_key_usage'],
  ['opaque', `do $$ begin execute 'drop table books'; end $$;`, 'do'],
];

t.test('each destructive kind is refused without a contract mark', async (t) => {
  for (const [kind, sql, object] of DESTRUCTIVE) {
    const { problems } = await lint(fixture([sql]));
    t.same(
      problems.map((problem) => [problem.kind, problem.object, problem.statement]),
      [[kind, object, 1]],
      sql,
    );
  }
});

t.test('expand steps pass', async (t) => {
  const safe = [
    'create table "editions" ("id" uuid not null, "book_id" uuid not null, primary key ("id"));',
    'alter table "editions" add constraint "editions_book_id_foreign" foreign key ("book_id") references "books" ("id");',
    'create unique index "editions_book_unique" on "editions" ("book_id");',
    'alter table "editions" alter column "book_id" type text;',
    'alter table "books" add "subtitle" varchar(200) null;',
    `alter table "books" add "edition" int not null default 1;`,
    'alter table "books" add column "row_id" bigint generated always as identity;',
    'alter table "books" add "new_title" varchar(200) null;',
    `alter table "books" add constraint "books_new_title_check" check ("new_title" <> '');`,
    'alter table "books" alter column "new_title" set not null;',
    'create index concurrently "books_title_index" on "books" ("title");',
    `alter table "books" alter column "title" set default '';`,
    'alter table "books" alter column "published_year" drop not null;',
    'update "books" set "new_title" = "title" where "new_title" is null;',
    `insert into "api_keys" ("id") values ('00000000-0000-0000-0000-000000000000');`,
    `comment on column "books"."title" is 'the title';`,
    'drop table "editions";',
    'create table "drafts" ("id" int);',
    'alter table "drafts" rename to "outlines";',
    'alter table "outlines" add "title" text not null;',
    'drop table "outlines";',
    'alter domain "isbn" drop not null;',
    'create domain "isbn13" as text;',
    'alter domain "isbn13" set not null;',
  ];
  const result = await lint(fixture(safe));
  t.same(result.problems.map(formatFinding), []);
  t.equal(result.statements, safe.length);
});

t.test('the SQL is what up() adds, raw() fragments included', async (t) => {
  class RawFixture extends Migration {
    override up(): void {
      this.addSql(raw('alter table ?? drop column ??', ['books', 'title']));
    }
  }
  const { problems } = await lint({ name: 'Migration20990101000000_raw', class: RawFixture });
  t.same(
    problems.map((problem) => [problem.kind, problem.object]),
    [['drop-column', 'books.title']],
  );
});

t.test('SQL the parser refuses is a problem, mark or not', async (t) => {
  const mark: ContractStep = {
    release: 'v1.2.0',
    objects: ['books'],
    reason: 'release v1.2.0 stopped reading books',
  };
  const { problems } = await lint(fixture(['drop tabel "books";'], mark));
  t.same(
    problems.map((problem) => problem.kind),
    ['unparsable', 'bad-mark'],
  );
  t.match(problems[0]?.message, /syntax error/);
});

t.test('a contract mark allows exactly the objects it names', async (t) => {
  const mark: ContractStep = {
    release: 'v1.4.0',
    objects: ['books.title'],
    reason: 'v1.4.0 reads and writes "name" only; "title" was kept for v1.3.0',
  };
  const drop = 'alter table "books" drop column "title";';
  const allowed = await lint(fixture([drop], mark));
  t.same(allowed.problems, []);
  t.same(
    allowed.allowed.map((finding) => finding.object),
    ['books.title'],
  );

  const unmarked = await lint(fixture([drop, 'drop table "book_covers";'], mark));
  t.same(
    unmarked.problems.map((problem) => [problem.kind, problem.object]),
    [['drop-table', 'book_covers']],
    'a second destructive statement needs its own entry',
  );

  const stale = await lint(fixture(['alter table "books" add "x" int null;'], mark));
  t.same(
    stale.problems.map((problem) => [problem.kind, problem.object]),
    [['bad-mark', 'books.title']],
    'a mark naming what nothing removes is stale',
  );
});

t.test('a mark must name the release, the objects and the reason', async (t) => {
  const drop = 'drop table "books";';
  const cases: [unknown, RegExp][] = [
    [{ objects: ['books'], reason: 'v2 stopped reading books' }, /`release` must name the release/],
    [{ release: '', objects: ['books'], reason: 'v2 stopped reading books' }, /`release`/],
    [{ release: 'v2', objects: [], reason: 'v2 stopped reading books' }, /`objects` must list/],
    [{ release: 'v2', objects: ['books'], reason: '' }, /`reason` must say/],
    [{ release: 'grandfathered', objects: ['books'], reason: 'it was like this' }, /only migrations up to/],
  ];
  for (const [mark, message] of cases) {
    const { problems, allowed } = await lint(fixture([drop], mark));
    t.match(problems.map(formatFinding).join('\n'), message, JSON.stringify(mark));
    t.same(allowed, [], 'an invalid mark allows nothing');
  }
  const old = await lint(
    fixture(
      [drop],
      { release: 'grandfathered', objects: ['books'], reason: 'shipped before the linter' },
      'Migration20261101000000_old',
    ),
  );
  t.same(old.problems, [], 'migrations from before the linter may be grandfathered');
});

t.test('the committed migrations pass, their destructive steps marked', async (t) => {
  const result = await lint(...migrations);
  t.same(result.problems.map(formatFinding), []);
  t.equal(result.migrations, migrations.length);
  t.ok(result.allowed.length > 0, 'the grandfathered steps are reported as allowed');
});

t.test('npm run lint runs the linter', async (t) => {
  const root = path.resolve(import.meta.dirname, '../../..');
  const scripts = (name: string) =>
    (JSON.parse(readFileSync(path.join(root, name), 'utf8')) as { scripts: Record<string, string> }).scripts;
  t.match(scripts('package.json').lint, /npm run lint:migrations -w service/);
  t.equal(scripts('service/package.json')['lint:migrations'], 'node scripts/lint-migrations.ts');
});

t.test('the worked example of docs/migrations.md: what it says of the linter, and its trigger', async (t) => {
  const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/migrations.md'), 'utf8');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  const sqlOf = (block: string) =>
    [...block.matchAll(/this\.addSql\(`([\s\S]*?)`\);/g)].map((m) => m[1] ?? '');
  const [expand, contract] = [sqlOf(blocks[0] ?? ''), sqlOf(blocks[1] ?? '')];
  t.ok(expand.length > 0 && contract.length > 0, 'the two migrations of the example');
  const objects = [...(/objects: \[([^\]]*)\]/.exec(blocks[1] ?? '')?.[1] ?? '').matchAll(/'([^']+)'/g)].map(
    (m) => m[1] ?? '',
  );
  const mark: ContractStep = { release: 'v1.8.0', objects, reason: 'release 2 uses only "name"' };

  t.same((await lint(fixture(expand))).problems.map(formatFinding), [], 'release 1 is an expand step');
  t.same(
    (await lint(fixture(contract))).problems.map((problem) => problem.kind),
    ['drop-object', 'drop-object', 'drop-column', 'set-not-null'],
    'release 3 unmarked is refused',
  );
  t.same((await lint(fixture(contract, mark))).problems.map(formatFinding), [], 'and passes with its mark');

  // On a real database: release 1's schema serves code that knows only title and code that knows only name.
  const db = await startTestDatabase(t);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.teardown(() => client.end());
  // The example's table as it stands before release 1, in a schema of its own (the books module may be gone).
  await client.query('create schema worked_example; set search_path to worked_example');
  await client.query(`create table books (id uuid primary key, title varchar(200) not null,
    author varchar(200) not null, isbn varchar(13) not null unique,
    created_at timestamptz not null, updated_at timestamptz not null)`);
  for (const sql of expand) await client.query(sql);
  const insert = (column: string, id: string, isbn: string) =>
    client.query(
      `insert into books (id, "${column}", author, isbn, created_at, updated_at) values ($1, $2, 'A', $3, now(), now())`,
      [id, `by ${column}`, isbn],
    );
  const one = '00000000-0000-4000-8000-000000000001';
  const two = '00000000-0000-4000-8000-000000000002';
  await insert('title', one, '9780000000002');
  await insert('name', two, '9780000000019');
  await client.query(`update books set title = 'new title' where id = $1`, [one]);
  await client.query(`update books set name = 'new name' where id = $1`, [two]);
  const { rows } = await client.query<{ title: string; name: string }>(
    'select title, name from books order by id',
  );
  t.same(rows, [
    { title: 'new title', name: 'new title' },
    { title: 'new name', name: 'new name' },
  ]);
  for (const sql of contract) await client.query(sql);
  const after = await client.query<{ name: string }>('select name from books order by id');
  t.same(
    after.rows.map((row) => row.name),
    ['new title', 'new name'],
  );
});

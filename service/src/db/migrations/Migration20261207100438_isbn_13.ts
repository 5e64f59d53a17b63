import { Migration } from '@mikro-orm/migrations';
import type { ContractStep } from './contract.ts';

// Hand-written (the data steps): every ISBN becomes its ISBN-13. Where that makes two live books one ISBN,
// the oldest (created_at, then id) stays live and the later ones are soft-deleted, rows and covers kept
// (docs/api.md, "ISBNs": how to list and restore them). The check is what `db:migration:create` generated.
const CANONICAL = `
  select id, case when length(isbn) = 10 then (
    select '978' || left(isbn, 9)
      || ((10 - sum(substr('978' || left(isbn, 9), i, 1)::int * (1 + 2 * ((i + 1) % 2))) % 10) % 10)::text
    from generate_series(1, 12) as i
  ) else isbn end as isbn13
  from "books"`;

export class Migration20261207100438_isbn_13 extends Migration {

  override name = 'Migration20261207100438_isbn_13';

  // Shipped before the migration linter: a release before it still stores ISBN-10s, which the check refuses.
  static readonly contract: ContractStep = {
    release: 'grandfathered',
    objects: ['books_isbn_check'],
    reason: 'every ISBN is stored as its ISBN-13 from this release on; a rollback past it fails ISBN-10 writes',
  };

  override up(): void | Promise<void> {
    this.addSql(`update "books" set "deleted_at" = now() from (
      select c.id, row_number() over (partition by c.isbn13 order by b.created_at, b.id) as "rank"
      from (${CANONICAL}) c join "books" b on b.id = c.id where b.deleted_at is null
    ) ranked where "books".id = ranked.id and ranked."rank" > 1;`);
    this.addSql(`update "books" set "isbn" = c.isbn13 from (${CANONICAL}) c where "books".id = c.id and "books".isbn <> c.isbn13;`);
    this.addSql(`alter table "books" add constraint "books_isbn_check" check (isbn ~ '^97[89][0-9]{10}$');`);
  }

  override down(): void | Promise<void> {
    // The ISBN-10 forms are not restored, nor the soft-deleted duplicates: both are valid data before this.
    this.addSql(`alter table "books" drop constraint "books_isbn_check";`);
  }

}

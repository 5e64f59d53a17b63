import { Migration } from '@mikro-orm/migrations';
import type { ContractStep } from './contract.ts';

export class Migration20261122034337_soft_delete extends Migration {

  override name = 'Migration20261122034337_soft_delete';

  // Shipped before the migration linter, with the code that stopped relying on the table-wide unique ISBN.
  static readonly contract: ContractStep = {
    release: 'grandfathered',
    objects: ['books_isbn_unique', 'books_isbn_live_unique'],
    reason: 'replaces the unique ISBN by one among live books; no release before it ran on a shared database',
  };

  override up(): void | Promise<void> {
    this.addSql(`alter table "books" drop constraint "books_isbn_unique";`);
    this.addSql(`alter table "books" add "deleted_at" timestamptz null;`);
    // Hand-written: ISBNs stay unique among live books, while a deleted book's ISBN can be reused.
    this.addSql(`create unique index "books_isbn_live_unique" on "books" ("isbn") where "deleted_at" is null;`);
    // Supports the maintenance job's purge of books deleted long ago.
    this.addSql(`create index "books_deleted_at_index" on "books" ("deleted_at") where "deleted_at" is not null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "books_deleted_at_index";`);
    this.addSql(`drop index "books_isbn_live_unique";`);
    this.addSql(`delete from "books" where "deleted_at" is not null;`);
    this.addSql(`alter table "books" drop column "deleted_at";`);
    this.addSql(`alter table "books" add constraint "books_isbn_unique" unique ("isbn");`);
  }

}

import { Migration } from '@mikro-orm/migrations';

export class Migration20261122035719_book_covers extends Migration {

  override name = 'Migration20261122035719_book_covers';

  override up(): void | Promise<void> {
    this.addSql(`create table "book_covers" ("book_id" uuid not null, "content_type" varchar(64) not null, "data" bytea not null, "sha256" varchar(64) not null, "updated_at" timestamptz not null, primary key ("book_id"));`);

    this.addSql(`alter table "book_covers" add constraint "book_covers_book_id_foreign" foreign key ("book_id") references "books" ("id") on update cascade on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "book_covers" cascade;`);
  }

}

import { Migration } from '@mikro-orm/migrations';

export class Migration20261122032519_books extends Migration {

  override name = 'Migration20261122032519_books';

  override up(): void | Promise<void> {
    this.addSql(`create table "books" ("id" uuid not null, "title" varchar(200) not null, "author" varchar(200) not null, "isbn" varchar(13) not null, "published_year" int null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "books_author_index" on "books" ("author");`);
    this.addSql(`alter table "books" add constraint "books_isbn_unique" unique ("isbn");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "books" cascade;`);
  }

}

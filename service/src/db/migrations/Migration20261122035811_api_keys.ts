import { Migration } from '@mikro-orm/migrations';

export class Migration20261122035811_api_keys extends Migration {

  override name = 'Migration20261122035811_api_keys';

  override up(): void | Promise<void> {
    this.addSql(`create table "api_keys" ("id" uuid not null, "prefix" varchar(32) not null, "key_hash" varchar(64) not null, "name" varchar(100) not null, "daily_quota" int not null, "rate_limit_per_minute" int not null, "created_at" timestamptz not null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_prefix_unique" unique ("prefix");`);

    this.addSql(`create table "api_key_usage" ("key_id" uuid not null, "period" varchar(8) not null, "window_start" timestamptz not null, "count" int not null, primary key ("key_id", "period", "window_start"));`);
    this.addSql(`create index "api_key_usage_window_start_index" on "api_key_usage" ("window_start");`);
    // Hand-written: limits are positive and a usage row is a minute or a day window, whatever writes them.
    this.addSql(`alter table "api_keys" add constraint "api_keys_limits_positive" check ("daily_quota" > 0 and "rate_limit_per_minute" > 0);`);
    this.addSql(`alter table "api_key_usage" add constraint "api_key_usage_period_known" check ("period" in ('minute', 'day'));`);

    this.addSql(`alter table "api_key_usage" add constraint "api_key_usage_key_id_foreign" foreign key ("key_id") references "api_keys" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "api_key_usage" drop constraint "api_key_usage_key_id_foreign";`);

    this.addSql(`drop table if exists "api_keys" cascade;`);
    this.addSql(`drop table if exists "api_key_usage" cascade;`);
  }

}

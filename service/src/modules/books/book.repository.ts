// Data access for books: the only place that builds queries.
import type { EntityDictionary } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { BookSchema, type Book } from './book.entity.ts';
import type { BookFields, CreateBookInput, ListBooksInput, UpdateBookInput } from './book.dto.ts';

interface CoverRow {
  content_type: string | null;
  sha256: string | null;
  data: Buffer | null;
}

export interface StoredCover {
  readonly contentType: string;
  readonly sha256: string;
  readonly data: Buffer;
}

export class BookRepository {
  private readonly em: EntityManager;

  constructor(em: EntityManager) {
    this.em = em;
  }

  // Live books only. Hand-written: the query builder was a third of a warm GET's CPU (docs/performance.md).
  async findById(id: string): Promise<Book | null> {
    const row = await this.selectLive(id);
    return row === undefined ? null : this.em.map(BookSchema, row);
  }

  // For a read that changes nothing: the ORM's conversions, no entity, so no identity map (no fork).
  async readById(id: string): Promise<BookFields | null> {
    const row = await this.selectLive(id);
    if (row === undefined) return null;
    const meta = this.em.getMetadata().get(BookSchema);
    const fields = this.em.getDriver().mapResult(row, meta) as Record<string, unknown>;
    // What the hydrator does besides mapResult's names, dates and booleans: custom types (bigint, decimal…).
    for (const prop of meta.props) {
      const value = fields[prop.name];
      if (prop.customType !== undefined && value !== null && value !== undefined)
        fields[prop.name] = prop.customType.convertToJSValue(value, this.em.getPlatform());
    }
    return fields as unknown as BookFields;
  }

  private async selectLive(id: string): Promise<EntityDictionary<Book> | undefined> {
    const rows = await this.em
      .getConnection()
      .execute<EntityDictionary<Book>[]>('select * from books where id = ? and deleted_at is null', [id]);
    return rows[0];
  }

  // Sequential: findAndCount would take a second connection the gate never granted.
  async list({ limit, offset, author, sort }: ListBooksInput): Promise<[Book[], number]> {
    const descending = sort.startsWith('-');
    const field = (descending ? sort.slice(1) : sort) as keyof Book;
    const where =
      author === undefined
        ? { deletedAt: null }
        : { deletedAt: null, author: { $ilike: `%${escapeLike(author)}%` } };
    const items = await this.em.find(BookSchema, where, {
      limit,
      offset,
      // The id tie-breaker keeps pages stable when sort values repeat.
      orderBy: [{ [field]: descending ? 'desc' : 'asc' }, { id: 'asc' }],
    });
    return [items, await this.em.count(BookSchema, where)];
  }

  async create(input: CreateBookInput): Promise<Book> {
    const book = this.em.create(BookSchema, { ...input, publishedYear: input.publishedYear ?? null });
    await this.em.flush();
    return book;
  }

  // One conditional update: a book deleted meanwhile (even during the row lock wait) is never written.
  async updateLive(id: string, changes: UpdateBookInput): Promise<Book | null> {
    const rows = await this.em
      .createQueryBuilder(BookSchema)
      .update({ ...changes, updatedAt: new Date() })
      .where({ id, deletedAt: null })
      .returning('*')
      .execute<EntityDictionary<Book>[]>('all');
    const row = rows[0];
    return row === undefined ? null : this.em.map(BookSchema, row);
  }

  // One conditional update: of concurrent deletes exactly one matches a live row.
  async softDelete(id: string): Promise<boolean> {
    return (await this.em.nativeUpdate(BookSchema, { id, deletedAt: null }, { deletedAt: new Date() })) === 1;
  }

  // One round trip, no hydration; the ORM's connection, so a rotated password applies.
  async findCoverOfLiveBook(id: string): Promise<StoredCover | null | undefined> {
    // Hex text: pg-protocol decodes binary results as UTF-8, which mangles arbitrary bytes.
    const rows = await this.em.getConnection().execute<CoverRow[]>(
      `select c.content_type, c.sha256, c.data from books b left join book_covers c on c.book_id = b.id
       where b.id = ? and b.deleted_at is null`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    if (row.content_type === null || row.sha256 === null || row.data === null) return null;
    return { contentType: row.content_type, sha256: row.sha256, data: row.data };
  }

  // One upsert: concurrent first uploads all succeed, last writer wins, one row at most.
  // The book row is share-locked, so a book deleted meanwhile gets no cover.
  async saveLiveCover(
    id: string,
    cover: { contentType: string; data: Buffer; sha256: string; updatedAt: Date },
  ): Promise<boolean> {
    const rows = await this.em.getConnection().execute<unknown[]>(
      `insert into book_covers (book_id, content_type, data, sha256, updated_at)
       select b.id, ?, ?, ?, ? from books b where b.id = ? and b.deleted_at is null for share
       on conflict (book_id) do update set content_type = excluded.content_type, data = excluded.data,
         sha256 = excluded.sha256, updated_at = excluded.updated_at
       returning 1`,
      [cover.contentType, cover.data, cover.sha256, cover.updatedAt, id],
    );
    return rows.length === 1;
  }

  // Share-locks the live book; of concurrent deletes exactly one removes the row.
  async removeLiveCover(id: string): Promise<{ live: boolean; removed: boolean }> {
    const rows = await this.em.getConnection().execute<{ live: number; removed: number }[]>(
      `with live as (select id from books where id = ? and deleted_at is null for share),
         gone as (delete from book_covers where book_id in (select id from live) returning 1)
       select (select count(*) from live)::int as live, (select count(*) from gone)::int as removed`,
      [id],
    );
    return { live: rows[0]?.live === 1, removed: rows[0]?.removed === 1 };
  }

  async purgeDeleted(before: Date): Promise<number> {
    return this.em.nativeDelete(BookSchema, { deletedAt: { $lt: before } });
  }
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

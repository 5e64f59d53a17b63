// The Book entity: a plain schema (no decorators, no reflect-metadata), so it bundles cleanly.
import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const BookSchema = defineEntity({
  name: 'Book',
  tableName: 'books',
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    title: p.string().length(200),
    author: p.string().length(200).index(),
    // Unique among live books only: a partial index (see the migrations), so a deleted book's ISBN is free.
    isbn: p.string().length(13),
    publishedYear: p.integer().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    /** Soft delete: the row stays recoverable until the maintenance job purges it after the retention. */
    deletedAt: p.datetime().nullable(),
  },
});

export type Book = InferEntity<typeof BookSchema>;

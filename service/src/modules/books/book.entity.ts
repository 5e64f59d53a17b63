// The Book entity: a plain schema (no decorators, no reflect-metadata), so it bundles cleanly.
import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const BookSchema = defineEntity({
  name: 'Book',
  tableName: 'books',
  // Partial indexes: ISBNs are unique among live books only, and the purge finds deleted ones fast.
  uniques: [{ name: 'books_isbn_live_unique', properties: ['isbn'], where: { deletedAt: null } }],
  indexes: [
    { name: 'books_deleted_at_index', properties: ['deletedAt'], where: { deletedAt: { $ne: null } } },
  ],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    title: p.string().length(200),
    author: p.string().length(200).index(),
    // Only the canonical form (ISBN-13): the two forms of one book can never both be stored.
    isbn: p.string().length(13).check(`isbn ~ '^97[89][0-9]{10}$'`),
    publishedYear: p.integer().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    // Recoverable until the maintenance job purges it.
    deletedAt: p.datetime().nullable(),
  },
});

export type Book = InferEntity<typeof BookSchema>;

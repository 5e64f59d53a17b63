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
    isbn: p.string().length(13).unique(),
    publishedYear: p.integer().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export type Book = InferEntity<typeof BookSchema>;

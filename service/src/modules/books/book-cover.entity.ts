// A book's cover, one row per book: outside the books table, so listings never read image data.
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { BookSchema } from './book.entity.ts';

export const BookCoverSchema = defineEntity({
  name: 'BookCover',
  tableName: 'book_covers',
  properties: {
    // A purged book takes its cover with it.
    book: () => p.oneToOne(BookSchema).primary().deleteRule('cascade'),
    contentType: p.string().length(64),
    data: p.blob(),
    // Served as the ETag.
    sha256: p.string().length(64),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export type BookCover = InferEntity<typeof BookCoverSchema>;

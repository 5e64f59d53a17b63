// What the API takes and answers about books, derived from the entities: a field added to Book shows up here, and
// tsc then asks for it in the response schema (book.schemas.ts) and in toBookDto below.
import type { AsJson, EntityFields } from '../../lib/entity-json.ts';
import type { BookCover } from './book-cover.entity.ts';
import type { Book } from './book.entity.ts';

// The API never shows the soft-delete marker.
export type BookFields = Omit<EntityFields<Book>, 'deletedAt'>;
export type BookDto = AsJson<BookFields>;

export type CreateBookInput = Pick<BookFields, 'title' | 'author' | 'isbn'> &
  Partial<Pick<BookFields, 'publishedYear'>>;
export type UpdateBookInput = Partial<CreateBookInput>;

export interface BookIdParams {
  id: string;
}

export interface ListBooksInput {
  limit: number;
  offset: number;
  author?: string;
  // `-` prefix: descending.
  sort: string;
}

export interface BookPage {
  items: BookDto[];
  total: number;
  limit: number;
  offset: number;
}

// The bytes are served on their own; the ETag is their sha256.
export type CoverFields = Pick<BookCover, 'contentType' | 'updatedAt'> & { size: number; etag: string };
export type CoverDto = AsJson<CoverFields>;

export function toBookDto(book: Book): BookDto {
  return {
    id: book.id,
    title: book.title,
    author: book.author,
    isbn: book.isbn,
    publishedYear: book.publishedYear ?? null,
    createdAt: book.createdAt.toISOString(),
    updatedAt: book.updatedAt.toISOString(),
  };
}

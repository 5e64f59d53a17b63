// What the API takes and answers about books, derived from the entities: a field added to Book shows up here, and
// tsc then asks for it in the response schema (book.schemas.ts) and in toBookDto below.
import type { AsJson, EntityFields } from '../../lib/entity-json.ts';
import type { BookCover } from './book-cover.entity.ts';
import type { Book } from './book.entity.ts';

/** A book's public fields: all but the soft-delete marker, which the API never shows. */
export type BookFields = Omit<EntityFields<Book>, 'deletedAt'>;
export type BookDto = AsJson<BookFields>;

/** The fields a client sets; the rest the service fills in. */
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
  /** A field name, prefixed with - for descending. */
  sort: string;
}

export interface BookPage {
  items: BookDto[];
  total: number;
  limit: number;
  offset: number;
}

/** A cover's description (its bytes are served on their own): the ETag is the bytes' sha256. */
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

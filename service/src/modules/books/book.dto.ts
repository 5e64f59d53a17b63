// Derived from the entities: tsc asks for a new Book field in book.schemas.ts and toBookDto.
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

export type CoverFields = Pick<BookCover, 'contentType' | 'updatedAt'> & { size: number; etag: string };
export type CoverDto = AsJson<CoverFields>;

export function toBookDto(book: BookFields): BookDto {
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

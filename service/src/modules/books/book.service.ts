// Book use cases. Speaks in domain errors; knows nothing about HTTP.
import { createHash } from 'node:crypto';
import { DomainError } from '../../errors/domain-error.ts';
import type { Book } from './book.entity.ts';
import type { BookRepository } from './book.repository.ts';
import { isCoverImage } from './cover-image.ts';
import {
  toBookDto,
  type BookDto,
  type BookPage,
  type CoverDto,
  type CreateBookInput,
  type ListBooksInput,
  type UpdateBookInput,
} from './book.dto.ts';

export class BookService {
  private readonly books: BookRepository;

  constructor(books: BookRepository) {
    this.books = books;
  }

  async get(id: string): Promise<BookDto> {
    const book = await this.books.readById(id);
    if (!book) throw bookNotFound(id);
    return toBookDto(book);
  }

  async list(input: ListBooksInput): Promise<BookPage> {
    const [items, total] = await this.books.list(input);
    return { items: items.map(toBookDto), total, limit: input.limit, offset: input.offset };
  }

  async create(input: CreateBookInput): Promise<BookDto> {
    return toBookDto(await isbnMustBeFree(this.books.create(input)));
  }

  async update(id: string, input: UpdateBookInput): Promise<BookDto> {
    const book = await isbnMustBeFree(this.books.updateLive(id, input));
    if (!book) throw bookNotFound(id);
    return toBookDto(book);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.books.softDelete(id))) throw bookNotFound(id);
  }

  async getCover(id: string): Promise<{ contentType: string; data: Buffer; etag: string }> {
    const cover = await this.books.findCoverOfLiveBook(id);
    if (cover === undefined) throw bookNotFound(id);
    if (cover === null) throw new DomainError('NOT_FOUND', 'This book has no cover');
    return { contentType: cover.contentType, data: cover.data, etag: cover.sha256 };
  }

  async putCover(id: string, contentType: string, data: Buffer): Promise<CoverDto> {
    // 404 for an unknown book comes before 415 for its bytes.
    await this.load(id);
    // The declared type must match the bytes: clients then get back exactly what they stored.
    if (!isCoverImage(contentType, data)) {
      throw new DomainError('UNSUPPORTED_MEDIA_TYPE', `The body is not a valid ${contentType} image`);
    }
    const sha256 = createHash('sha256').update(data).digest('hex');
    const updatedAt = new Date();
    // false: deleted since it was loaded.
    if (!(await this.books.saveLiveCover(id, { contentType, data, sha256, updatedAt })))
      throw bookNotFound(id);
    return { contentType, size: data.length, etag: sha256, updatedAt: updatedAt.toISOString() };
  }

  async deleteCover(id: string): Promise<void> {
    const { live, removed } = await this.books.removeLiveCover(id);
    if (!live) throw bookNotFound(id);
    if (!removed) throw new DomainError('NOT_FOUND', 'This book has no cover');
  }

  async purgeDeleted(retentionDays: number, now = new Date()): Promise<{ purged: number; before: string }> {
    const before = new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000);
    return { purged: await this.books.purgeDeleted(before), before: before.toISOString() };
  }

  private async load(id: string): Promise<Book> {
    const book = await this.books.findById(id);
    if (!book) throw bookNotFound(id);
    return book;
  }
}

function bookNotFound(id: string): DomainError {
  return new DomainError('BOOK_NOT_FOUND', `No book with id ${id}`);
}

// The unique index decides: no check-then-insert race.
async function isbnMustBeFree<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    // The ORM's exception (flush) or PostgreSQL's unique_violation (a query builder's statement).
    if (
      error instanceof Error &&
      (error.name === 'UniqueConstraintViolationException' || (error as { code?: unknown }).code === '23505')
    ) {
      throw new DomainError('BOOK_ISBN_TAKEN');
    }
    throw error;
  }
}

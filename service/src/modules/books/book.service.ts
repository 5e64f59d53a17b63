// Book use cases. Speaks in domain errors; knows nothing about HTTP.
import { DomainError } from '../../errors/domain-error.ts';
import type { Book } from './book.entity.ts';
import type { BookRepository } from './book.repository.ts';
import type { CreateBookInput, ListBooksInput, UpdateBookInput } from './book.schemas.ts';

export interface BookDto {
  id: string;
  title: string;
  author: string;
  isbn: string;
  publishedYear: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface BookPage {
  items: BookDto[];
  total: number;
  limit: number;
  offset: number;
}

export class BookService {
  private readonly books: BookRepository;

  constructor(books: BookRepository) {
    this.books = books;
  }

  async get(id: string): Promise<BookDto> {
    return toDto(await this.load(id));
  }

  async list(input: ListBooksInput): Promise<BookPage> {
    const [items, total] = await this.books.list(input);
    return { items: items.map(toDto), total, limit: input.limit, offset: input.offset };
  }

  async create(input: CreateBookInput): Promise<BookDto> {
    return toDto(await isbnMustBeFree(this.books.create(input)));
  }

  async update(id: string, input: UpdateBookInput): Promise<BookDto> {
    const book = await this.load(id);
    Object.assign(book, input);
    await isbnMustBeFree(this.books.flush());
    return toDto(book);
  }

  async delete(id: string): Promise<void> {
    await this.books.softDelete(await this.load(id));
  }

  /** Maintenance: deleted books are kept for `retentionDays`, then purged. */
  async purgeDeleted(retentionDays: number, now = new Date()): Promise<{ purged: number; before: string }> {
    const before = new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000);
    return { purged: await this.books.purgeDeleted(before), before: before.toISOString() };
  }

  private async load(id: string): Promise<Book> {
    const book = await this.books.findById(id);
    if (!book) throw new DomainError('BOOK_NOT_FOUND', `No book with id ${id}`);
    return book;
  }
}

/** The unique index is the source of truth (no check-then-insert race); its violation becomes a 409. */
async function isbnMustBeFree<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof Error && error.name === 'UniqueConstraintViolationException') {
      throw new DomainError('BOOK_ISBN_TAKEN');
    }
    throw error;
  }
}

function toDto(book: Book): BookDto {
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

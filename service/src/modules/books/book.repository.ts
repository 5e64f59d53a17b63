// Data access for books: the only place that builds queries.
import type { EntityManager } from '@mikro-orm/postgresql';
import { BookSchema, type Book } from './book.entity.ts';
import type { CreateBookInput, ListBooksInput } from './book.schemas.ts';

export class BookRepository {
  private readonly em: EntityManager;

  constructor(em: EntityManager) {
    this.em = em;
  }

  findById(id: string): Promise<Book | null> {
    return this.em.findOne(BookSchema, { id });
  }

  list({ limit, offset, author, sort }: ListBooksInput): Promise<[Book[], number]> {
    const descending = sort.startsWith('-');
    const field = (descending ? sort.slice(1) : sort) as keyof Book;
    return this.em.findAndCount(
      BookSchema,
      author === undefined ? {} : { author: { $ilike: `%${escapeLike(author)}%` } },
      {
        limit,
        offset,
        // The id tie-breaker keeps pages stable when sort values repeat.
        orderBy: [{ [field]: descending ? 'desc' : 'asc' }, { id: 'asc' }],
      },
    );
  }

  async create(input: CreateBookInput): Promise<Book> {
    const book = this.em.create(BookSchema, { ...input, publishedYear: input.publishedYear ?? null });
    await this.em.flush();
    return book;
  }

  async flush(): Promise<void> {
    await this.em.flush();
  }

  async remove(book: Book): Promise<void> {
    await this.em.remove(book).flush();
  }
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

// The lazy BookService factory: the repository pulls in the ORM, which start-up never needs.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BookService } from './book.service.ts';

export async function bookServiceFor(em: EntityManager): Promise<BookService> {
  const [{ BookRepository }, { BookService }] = await Promise.all([
    import('./book.repository.ts'),
    import('./book.service.ts'),
  ]);
  return new BookService(new BookRepository(em));
}

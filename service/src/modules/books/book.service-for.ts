// The lazy BookService factory: the repository pulls in the ORM, which start-up never needs.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BookService } from './book.service.ts';

let loaded: Promise<[typeof import('./book.repository.ts'), typeof import('./book.service.ts')]> | undefined;

export async function bookServiceFor(em: EntityManager): Promise<BookService> {
  // Once: a dynamic import() per request costs the ESM loader's lookup every time.
  loaded ??= Promise.all([import('./book.repository.ts'), import('./book.service.ts')]);
  const [{ BookRepository }, { BookService }] = await loaded;
  return new BookService(new BookRepository(em));
}

// The domain services, each over an EntityManager (a request's fork or a job's). Every factory has the
// same shape and imports its service on first use: the repositories pull in the ORM, which start-up and
// the open routes never need.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ApiKeyService } from './api-keys/api-key.service.ts';
import type { BookService } from './books/book.service.ts';

export async function bookServiceFor(em: EntityManager): Promise<BookService> {
  const [{ BookRepository }, { BookService }] = await Promise.all([
    import('./books/book.repository.ts'),
    import('./books/book.service.ts'),
  ]);
  return new BookService(new BookRepository(em));
}

export async function apiKeyServiceFor(em: EntityManager): Promise<ApiKeyService> {
  const [{ ApiKeyRepository }, { ApiKeyService }] = await Promise.all([
    import('./api-keys/api-key.repository.ts'),
    import('./api-keys/api-key.service.ts'),
  ]);
  return new ApiKeyService(new ApiKeyRepository(em));
}

// The lazy ApiKeyService factory: the repository pulls in the ORM, which start-up never needs.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ApiKeyService } from './api-key.service.ts';

let loaded:
  Promise<[typeof import('./api-key.repository.ts'), typeof import('./api-key.service.ts')]> | undefined;

export async function apiKeyServiceFor(em: EntityManager): Promise<ApiKeyService> {
  // Once: a dynamic import() per request costs the ESM loader's lookup every time.
  loaded ??= Promise.all([import('./api-key.repository.ts'), import('./api-key.service.ts')]);
  const [{ ApiKeyRepository }, { ApiKeyService }] = await loaded;
  return new ApiKeyService(new ApiKeyRepository(em));
}

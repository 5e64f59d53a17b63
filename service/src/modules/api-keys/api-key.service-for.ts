// The lazy ApiKeyService factory: the repository pulls in the ORM, which start-up never needs.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ApiKeyService } from './api-key.service.ts';

export async function apiKeyServiceFor(em: EntityManager): Promise<ApiKeyService> {
  const [{ ApiKeyRepository }, { ApiKeyService }] = await Promise.all([
    import('./api-key.repository.ts'),
    import('./api-key.service.ts'),
  ]);
  return new ApiKeyService(new ApiKeyRepository(em));
}

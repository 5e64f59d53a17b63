// The domain modules, in registration order: the one place a new module is added.
import { apiKeysModule } from './api-keys/index.ts';
import { booksModule } from './books/index.ts';
import type { DomainModule } from './module.ts';

export const DOMAIN_MODULES = [booksModule, apiKeysModule] as const;

// The tuple above keeps the code names' types.
export const domainModules: readonly DomainModule[] = DOMAIN_MODULES;

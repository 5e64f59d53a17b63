// The domain modules, in registration order: the one place a new module is added.
import { apiKeysModule } from './api-keys/index.ts';
import { booksModule } from './books/index.ts';

export const DOMAIN_MODULES = [booksModule, apiKeysModule] as const;

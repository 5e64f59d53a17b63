// The books domain module, registered as one hapi plugin.
import type { Plugin } from '@hapi/hapi';
import { bookRoutes } from './book.routes.ts';

export const booksPlugin: Plugin<void> = {
  name: 'books',
  dependencies: ['database', 'errors'],
  register(server) {
    server.route(bookRoutes);
  },
};

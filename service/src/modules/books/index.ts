// The books domain module, registered as one hapi plugin.
import type { Plugin } from '@hapi/hapi';
import type { Config } from '../../config.ts';
import { bookRoutes, bookServiceFor } from './book.routes.ts';

export const booksPlugin: Plugin<{ config: Config }> = {
  name: 'books',
  dependencies: ['database', 'errors', 'lambda-events'],
  register(server, { config }) {
    server.route(bookRoutes);
    server.plugins['lambda-events'].registerMaintenanceTask('books.purgeDeleted', async (em) =>
      (await bookServiceFor(em)).purgeDeleted(config.deletedRetentionDays),
    );
  },
};

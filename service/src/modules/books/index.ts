// The books domain module, registered as one hapi plugin.
import type { Plugin } from '@hapi/hapi';
import type { Config } from '../../config.ts';
import { bookServiceFor } from '../services.ts';
import { addBookRoutes } from './book.routes.ts';

export const booksPlugin: Plugin<{ config: Config }> = {
  name: 'books',
  dependencies: ['database', 'errors', 'lambda-events'],
  register(server, { config }) {
    addBookRoutes(server);
    server.plugins['lambda-events'].registerMaintenanceTask('books.purgeDeleted', async (em) =>
      (await bookServiceFor(em)).purgeDeleted(config.deletedRetentionDays),
    );
  },
};

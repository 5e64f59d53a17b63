// Starts a test's TCP server on a free 127.0.0.1 port and, at teardown, drops its sockets and closes it.
import type { Server } from 'node:net';
import type { Teardown } from './teardown.ts';

/** Resolves with the port; `dropSockets` destroys what is open, so close() does not wait for clients. */
export async function listenOnLoopback(
  t: Teardown,
  server: Server,
  dropSockets: () => void,
): Promise<number> {
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        dropSockets();
        server.close(() => {
          resolve();
        });
      }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the listener has no TCP port');
  return address.port;
}

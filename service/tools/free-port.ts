// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it): another process may
// still take it before the caller binds it, so callers that can retry do.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address !== null) resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

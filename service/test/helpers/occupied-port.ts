// A loopback port something is listening on for the rest of the test, for "port taken" cases.
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import type { Teardown } from './teardown.ts';

export async function occupiedPort(t: Teardown): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  return (server.address() as AddressInfo).port;
}

// A TCP proxy on 127.0.0.1 in front of a real PostgreSQL that can drop the first N connections (a resuming
// database) and start listening late.
import { createServer, connect, type Socket } from 'node:net';
import type { Teardown } from './teardown.ts';

export interface TcpProxy {
  readonly port: number;
  /** Connections destroyed so far (the first `dropFirst`). */
  readonly dropped: number;
  /** Connections forwarded to the target so far. */
  readonly forwarded: number;
  /** Starts accepting on `port` (the constructor only reserves the number). */
  listen(): Promise<void>;
}

export async function createTcpProxy(
  t: Teardown,
  { port, targetPort, dropFirst = 0 }: { port: number; targetPort: number; dropFirst?: number },
): Promise<TcpProxy> {
  let dropped = 0;
  let forwarded = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    if (dropped < dropFirst) {
      dropped++;
      client.destroy();
      return;
    }
    forwarded++;
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => {
          resolve();
        });
      }),
  );
  return {
    port,
    get dropped() {
      return dropped;
    },
    get forwarded() {
      return forwarded;
    },
    listen: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          resolve();
        });
      }),
  };
}

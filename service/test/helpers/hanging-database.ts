// A database that hangs: a listener that never answers, or a proxy to a real PostgreSQL that goes silent on
// every connection after hang(), as a frozen or partitioned database does.
import { connect, createServer, type Socket } from 'node:net';
import { listenOnLoopback } from './loopback-listener.ts';
import type { Teardown } from './teardown.ts';

export interface HangingDatabase {
  readonly port: number;
  /** From now on nothing more reaches either side. */
  hang(): void;
  /** Destroys every socket, so clients stuck on the hang fail now instead of at their own timeout. */
  release(): void;
}

export async function createHangingDatabase(
  t: Teardown,
  { targetPort }: { targetPort?: number } = {},
): Promise<HangingDatabase> {
  let hung = targetPort === undefined;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (chunk) => {
      if (!hung) to.write(chunk);
    });
  const server = createServer((client) => {
    track(client);
    if (targetPort === undefined) return;
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    forward(client, upstream);
    forward(upstream, client);
  });
  const release = () => {
    for (const socket of sockets) socket.destroy();
  };
  const port = await listenOnLoopback(t, server, release);
  return {
    port,
    hang: () => {
      hung = true;
    },
    release,
  };
}

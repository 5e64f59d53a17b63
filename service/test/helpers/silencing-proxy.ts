// A loopback TCP proxy in front of a real PostgreSQL that can silence the connections open now (nothing is
// closed, nothing more passes either way) while new ones pass: a NAT, failover or thaw that lost them.
import { connect, createServer, type Socket } from 'node:net';
import type { Teardown } from './teardown.ts';

export interface SilencingProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now (silenced ones included). */
  readonly open: number;
  /** What the client side sent into silenced connections, chunk by chunk. */
  readonly swallowed: readonly Buffer[];
  /** Stops forwarding on every connection open now; returns how many it silenced. */
  silence(): number;
}

interface Pair {
  silenced: boolean;
  readonly sockets: readonly [Socket, Socket];
}

export async function createSilencingProxy(
  t: Teardown,
  { targetPort }: { targetPort: number },
): Promise<SilencingProxy> {
  let accepted = 0;
  const swallowed: Buffer[] = [];
  const pairs = new Set<Pair>();
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { silenced: false, sockets: [client, upstream] };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      // A silenced pair swallows data and ends: its peers learn nothing, as over a dead network path.
      from.on('data', (chunk: Buffer) => {
        if (!pair.silenced) to.write(chunk);
        else if (from === client) swallowed.push(chunk);
      });
      from.on('end', () => {
        if (!pair.silenced) close();
      });
      from.on('error', () => {
        if (!pair.silenced) close();
      });
    }
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) for (const socket of pair.sockets) socket.destroy();
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
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP port');
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    swallowed,
    silence() {
      let silenced = 0;
      for (const pair of pairs) {
        if (pair.silenced) continue;
        pair.silenced = true;
        silenced++;
      }
      return silenced;
    },
  };
}

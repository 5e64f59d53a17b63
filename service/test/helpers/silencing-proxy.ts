// A loopback TCP proxy in front of a real PostgreSQL that can silence the connections open now (nothing is
// closed, nothing more passes either way) while new ones pass: a NAT, failover or thaw that lost them.
import { connect, createServer, type Socket } from 'node:net';
import { listenOnLoopback } from './loopback-listener.ts';
import type { Teardown } from './teardown.ts';

export interface SilencingProxy {
  readonly port: number;
  /** Sessions accepted so far (connections that did not send a CancelRequest). */
  readonly accepted: number;
  /** CancelRequests passed on so far (each on a short connection of its own, never silenced). */
  readonly cancelRequests: number;
  /** Sessions open now (silenced ones included). */
  readonly open: number;
  /** What the client side sent into silenced connections, chunk by chunk. */
  readonly swallowed: readonly Buffer[];
  /** Stops forwarding on every connection open now; returns how many it silenced. */
  silence(): number;
}

const CANCEL_REQUEST_CODE = 80_877_102;

interface Pair {
  silenced: boolean;
  cancel: boolean;
  readonly sockets: readonly [Socket, Socket];
}

export async function createSilencingProxy(
  t: Teardown,
  { targetPort }: { targetPort: number },
): Promise<SilencingProxy> {
  let accepted = 0;
  let cancelRequests = 0;
  const swallowed: Buffer[] = [];
  const pairs = new Set<Pair>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { silenced: false, cancel: false, sockets: [client, upstream] };
    pairs.add(pair);
    // A session's first bytes are a startup or SSL request; a CancelRequest has its own code.
    client.once('data', (chunk: Buffer) => {
      pair.cancel = chunk.length >= 8 && chunk.readInt32BE(4) === CANCEL_REQUEST_CODE;
      if (pair.cancel) cancelRequests++;
      else accepted++;
    });
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
  const port = await listenOnLoopback(t, server, () => {
    for (const pair of pairs) for (const socket of pair.sockets) socket.destroy();
  });
  return {
    port,
    get accepted() {
      return accepted;
    },
    get cancelRequests() {
      return cancelRequests;
    },
    get open() {
      return [...pairs].filter((pair) => !pair.cancel).length;
    },
    swallowed,
    silence() {
      let silenced = 0;
      for (const pair of pairs) {
        if (pair.silenced || pair.cancel) continue;
        pair.silenced = true;
        silenced++;
      }
      return silenced;
    },
  };
}

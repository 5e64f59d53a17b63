// hapi's `listener`, built here: connectionsCheckingInterval is a createServer option only.
import { createServer, type Server } from 'node:http';
import type { Config } from '../config.ts';

export function createHttpListener(config: Config): Server {
  return createServer({
    // Above the Web Adapter's 4 s idle keep-alive, or it reuses closed sockets (ConnectionReset).
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Counted from a request's first byte: cuts off clients trickling headers (slowloris).
    headersTimeout: config.headersTimeoutMs,
    // Node's 30 s default would stretch a 10 s headersTimeout to 40 s.
    connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    // plugins/protocol.ts refuses a missing Host with the envelope, not Node's bare 400.
    requireHostHeader: false,
  });
}

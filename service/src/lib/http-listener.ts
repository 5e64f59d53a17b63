// The Node HTTP server under hapi (hapi's `listener` option), built here because its connection timeouts
// are createServer options: connectionsCheckingInterval can be set nowhere else.
import { createServer, type Server } from 'node:http';
import type { Config } from '../config.ts';

export function createHttpListener(config: Config): Server {
  return createServer({
    // The Lambda Web Adapter keeps idle connections for 4 s; a shorter server timeout would let it reuse
    // a socket the server already closed (ConnectionReset).
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // Counted from a request's first byte, not across idle keep-alive time, so it can be far shorter than
    // keepAliveTimeout: a client trickling headers (slowloris) is cut off.
    headersTimeout: config.headersTimeoutMs,
    // How often Node enforces headersTimeout (30 s by default, which would stretch a 10 s bound to 40 s).
    connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    // Node would answer an HTTP/1.1 request without Host with a bare 400; plugins/protocol.ts refuses it.
    requireHostHeader: false,
  });
}

// A body too slow or too large gets its 408/413 envelope, then the connection closes: an 'error' on the
// request stream gives up on the body without destroying the socket.
import { clientTimeout } from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface UnreadBodyOptions {
  /** How long a client may take to send the body, counted from the request's start. */
  readonly payloadTimeoutMs: number;
}

// hapi 21 alone waits without limit for a slow body (route.js `internals.drain`: 503, not 408), and Wreck
// destroys the socket of a chunked body over maxBytes (a reset, not 413).
export const unreadBodyPlugin: Plugin<UnreadBodyOptions> = {
  name: 'unread-body',
  register(server, { payloadTimeoutMs }) {
    server.ext('onRequest', (request, h) => {
      const { req, res } = request.raw;
      if (!hasBody(req.headers)) return h.continue;

      // Wreck calls destroy() on the stream when the body is over maxBytes (then rejects with 413). A
      // socket already gone (the client aborted) is destroyed as usual.
      const destroy = req.destroy.bind(req);
      req.destroy = (error?: Error) => {
        if (req.socket.destroyed) return destroy(error);
        // After Wreck has settled with its own error, so this one only releases hapi.
        process.nextTick(() => {
          abandon(req, res, error ?? new Error('request body abandoned'));
        });
        return req;
      };
      const timer = setTimeout(() => {
        abandon(req, res, clientTimeout('The request body was not received in time'));
      }, payloadTimeoutMs);
      req.once('end', () => {
        req.destroy = destroy;
        clearTimeout(timer);
      });
      res.once('close', () => {
        clearTimeout(timer);
      });
      return h.continue;
    });
  },
};

/** Whether the request announces a body (Content-Length: 0 does not). */
export function hasBody(headers: Readonly<Record<string, unknown>>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Stops reading the body, answers whatever hapi decides (408/413), and closes the connection after it. */
function abandon(req: IncomingMessage, res: ServerResponse, error: Error): void {
  if (req.complete || res.headersSent) return;
  req.unpipe();
  // The rest of the body is read and discarded until the socket closes: unread bytes would make the
  // kernel reset the connection, and the client might lose the answer.
  req.resume();
  res.setHeader('connection', 'close');
  req.emit('error', error);
}

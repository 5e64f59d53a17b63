// A request body that is too slow or too large is answered with its 4xx envelope, then the connection
// closes. hapi 21 alone gets both wrong:
// - on its payload timeout it waits, with no limit, for the client to finish sending the body
//   (`internals.drain` in hapi's route.js), so the route timeout answers 503 instead of 408;
// - over `maxBytes` without a Content-Length (a chunked body), Wreck's read() destroys the request
//   stream, and with it the socket: the client gets a reset instead of 413.
// Both are fixed by giving up on the body without destroying the socket: an 'error' event on the request
// stream ends Wreck's read (a Boom error is kept as is) and tells hapi the body is no longer pending.
import { clientTimeout } from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface UnreadBodyOptions {
  /** How long a client may take to send the body, counted from the request's start. */
  readonly payloadTimeoutMs: number;
}

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

// A slow or oversized body gets its 408/413 envelope, then the connection closes.
import { clientTimeout } from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface UnreadBodyOptions {
  readonly payloadTimeoutMs: number;
}

// hapi 21 waits without limit for a slow body (503, not 408); Wreck resets an oversized chunked one.
export const unreadBodyPlugin: Plugin<UnreadBodyOptions> = {
  name: 'unread-body',
  register(server, { payloadTimeoutMs }) {
    server.ext('onRequest', (request, h) => {
      const { req, res } = request.raw;
      if (!hasBody(req.headers)) return h.continue;

      // Wreck destroys the stream of a body over maxBytes; an aborted socket is destroyed as usual.
      const destroy = req.destroy.bind(req);
      req.destroy = (error?: Error) => {
        if (req.socket.destroyed) return destroy(error);
        // After Wreck settles with its own error: this one only releases hapi.
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

export function hasBody(headers: Readonly<Record<string, unknown>>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function abandon(req: IncomingMessage, res: ServerResponse, error: Error): void {
  if (req.complete || res.headersSent) return;
  req.unpipe();
  // Unread bytes would make the kernel reset the connection, losing the answer.
  req.resume();
  res.setHeader('connection', 'close');
  req.emit('error', error);
}

// What Node's parser rejects before hapi sees it still gets the envelope and the usual headers.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { errorCode, type ErrorCodeName } from '../errors/error-codes.ts';
import { errorEnvelope } from './envelope.ts';

// Must match server.ts's routes.security (test/api/protocol.test.ts compares them).
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'strict-transport-security': 'max-age=15768000',
  'x-frame-options': 'DENY',
  'x-xss-protection': '0',
  'x-download-options': 'noopen',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

function errorName(code: unknown): { name: ErrorCodeName; message?: string } {
  if (code === 'HPE_HEADER_OVERFLOW') return { name: 'HEADERS_TOO_LARGE' };
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return { name: 'PAYLOAD_TOO_LARGE' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { name: 'REQUEST_TIMEOUT', message: 'The request headers were not received in time' };
  }
  return { name: 'BAD_REQUEST' };
}

function clientErrorResponse(code: unknown, traceId: string = randomUUID()): string {
  const { name, message } = errorName(code);
  const definition = errorCode(name);
  const body = JSON.stringify(errorEnvelope(traceId, definition.code, message ?? definition.message));
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...SECURITY_HEADERS,
    'x-request-id': traceId,
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([key, value]) => `${key}: ${value}`);
  return `HTTP/1.1 ${String(definition.status)} ${REASONS[definition.status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

// Mid-response, bad body bytes fail that request via hapi (`answerInRequest`); pipelined ones wait for it.
export function answerClientError(
  error: unknown,
  socket: Socket,
  answerInRequest: (error: unknown, socket: Socket) => void,
): void {
  try {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (current === null || current === undefined) {
      socket.end(clientErrorResponse(code));
    } else if (!current.req.complete) {
      answerInRequest(error, socket);
    } else {
      current.once('close', () => {
        if (socket.writable) socket.end(clientErrorResponse(code));
        else socket.destroy();
      });
    }
  } catch {
    // Inside 'clientError' a throw would end the process.
    socket.destroy();
  }
}

const CONNECT_LINGER_MS = 1000;

// Node hands a CONNECT's socket over without listeners: an unhandled 'error' would end the process.
export function answerConnect(socket: Socket): void {
  try {
    socket.on('error', () => socket.destroy());
    // Unread tunnel bytes would turn the close into a reset.
    socket.resume();
    socket.end(clientErrorResponse('HPE_INVALID_METHOD'));
    setTimeout(() => socket.destroy(), CONNECT_LINGER_MS).unref();
  } catch {
    socket.destroy();
  }
}

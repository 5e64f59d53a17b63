// Reading an invocation's proxy result: its body as bytes, or as the service's envelope.
import type { ProxyResult } from '../../../tools/lambda-invoke.ts';

/** The proxy result's body as bytes. */
export function bodyBytes(result: ProxyResult): Buffer {
  return Buffer.from(result.body ?? '', result.isBase64Encoded === true ? 'base64' : 'utf8');
}

/** The proxy result's body parsed as the service's envelope. */
export function envelope(result: ProxyResult): {
  success?: boolean;
  code?: number;
  message?: string;
  traceId?: string;
  data?: unknown;
} {
  return JSON.parse(bodyBytes(result).toString('utf8')) as ReturnType<typeof envelope>;
}

// API Gateway HTTP API (payload 2.0) events as API Gateway sends them, and invocations through the Lambda
// Runtime Interface Emulator's invoke endpoint.
import { randomUUID } from 'node:crypto';

export interface HttpEventInput {
  readonly method: string;
  readonly path: string;
  /** Raw query string; repeated keys are joined with commas in queryStringParameters, as API Gateway does. */
  readonly query?: string;
  readonly headers?: Record<string, string>;
  readonly cookies?: readonly string[];
  readonly body?: string | Buffer;
  /** Sends the body base64-encoded (always for a Buffer). */
  readonly base64?: boolean;
}

export function httpEvent(input: HttpEventInput): { event: Record<string, unknown>; requestId: string } {
  const requestId = `image-test-${randomUUID()}`;
  const query = input.query ?? '';
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    params[key] = params[key] === undefined ? value : `${params[key]},${value}`;
  }
  const base64 = input.base64 === true || Buffer.isBuffer(input.body);
  const body =
    input.body === undefined ? undefined : base64 ? Buffer.from(input.body).toString('base64') : input.body;
  const now = new Date();
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    rawPath: input.path,
    rawQueryString: query,
    ...(input.cookies ? { cookies: input.cookies } : {}),
    headers: {
      accept: 'application/json',
      host: 'image-test.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'image-test',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(input.body ?? '')) }),
      ...input.headers,
    },
    ...(query === '' ? {} : { queryStringParameters: params }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'imagetest',
      domainName: 'image-test.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'image-test',
      http: {
        method: input.method,
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'image-test',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: base64,
  };
  return { event, requestId };
}

export interface ProxyResult {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly cookies?: string[];
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

export interface Invocation {
  /** The invoke endpoint's HTTP status (200 also for a function error, as Lambda's). */
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  /** Lambda's X-Amz-Function-Error header, or (the emulator sends none) the result's errorType. */
  readonly functionError: string | null;
  readonly ms: number;
}

export async function invoke(url: string, payload: unknown, timeoutMs = 60_000): Promise<Invocation> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    text,
    json,
    functionError:
      response.headers.get('x-amz-function-error') ??
      (typeof json === 'object' && json !== null && 'errorType' in json ? String(json.errorType) : null),
    ms: performance.now() - started,
  };
}

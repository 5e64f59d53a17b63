// The Web Adapter's request headers; outside Lambda a client could forge them, so only the socket counts.

export interface LambdaRequestContext {
  // Becomes the envelope's traceId.
  readonly apiRequestId?: string;
  readonly apiId?: string;
  readonly routeKey?: string;
  readonly sourceIp?: string;
  readonly lambdaRequestId?: string;
  readonly xrayTraceId?: string;
  // Lambda's deadline (epoch ms): waiting work (migrate retries) stops a margin before it.
  readonly deadline?: number;
  // The adapter sends the request context as exactly `null` only for a non-HTTP event.
  readonly passThroughEvent: boolean;
}

const MAX_HEADER_LENGTH = 16 * 1024;
const SAFE_ID = /^[\w.:=/+-]{1,128}$/;
const SAFE_TRACE = /^[\w.:=;/+-]{1,256}$/;
const SAFE_IP = /^[\da-fA-F.:]{2,45}$/;
const SAFE_ROUTE_KEY = /^[\w$ /{}+.-]{1,256}$/;

type Headers = Readonly<Record<string, unknown>>;

export function readLambdaContext(headers: Headers): LambdaRequestContext {
  const api = parseJsonObject(headers['x-amzn-request-context']);
  const lambda = parseJsonObject(headers['x-amzn-lambda-context']);
  const http = asObject(api?.http);
  const identity = asObject(api?.identity);

  const apiRequestId = pick(api?.requestId, SAFE_ID);
  const apiId = pick(api?.apiId, SAFE_ID);
  return prune({
    apiRequestId,
    apiId,
    routeKey: pick(api?.routeKey, SAFE_ROUTE_KEY),
    // HTTP API (payload 2.0) puts the caller in http.sourceIp, REST API (1.0) in identity.sourceIp.
    sourceIp: pick(http?.sourceIp, SAFE_IP) ?? pick(identity?.sourceIp, SAFE_IP),
    lambdaRequestId: pick(lambda?.request_id, SAFE_ID) ?? pick(lambda?.requestId, SAFE_ID),
    // The adapter overwrites this header; a client sets x-amzn-trace-id.
    xrayTraceId: pick(lambda?.xray_trace_id, SAFE_TRACE),
    deadline: pickEpochMs(lambda?.deadline),
    // lambda_http's RequestContext::PassThrough; the adapter overwrites any copy a client sent.
    passThroughEvent: headers['x-amzn-request-context'] === 'null',
  });
}

export function socketContext(remoteAddress: string | undefined): LambdaRequestContext {
  return prune({ sourceIp: pick(remoteAddress, SAFE_IP), passThroughEvent: false });
}

function parseJsonObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_HEADER_LENGTH) return undefined;
  try {
    return asObject(JSON.parse(value));
  } catch {
    return undefined;
  }
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function pick(value: unknown, pattern: RegExp): string | undefined {
  return typeof value === 'string' && pattern.test(value) ? value : undefined;
}

function pickEpochMs(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

// A plain loop: this runs on every request.
function prune<T extends object>(value: T): T {
  const pruned: Partial<T> = {};
  for (const key in value) if (value[key] !== undefined) pruned[key] = value[key];
  return pruned as T;
}

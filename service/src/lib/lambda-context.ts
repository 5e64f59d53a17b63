// Reads the headers the Lambda Web Adapter adds to every forwarded request; a malformed value is ignored.
// Outside Lambda any client could forge them, so there only the socket is believed.

export interface LambdaRequestContext {
  /** API Gateway's request id; becomes the envelope's traceId when present. */
  readonly apiRequestId?: string;
  readonly apiId?: string;
  readonly routeKey?: string;
  readonly sourceIp?: string;
  readonly lambdaRequestId?: string;
  readonly xrayTraceId?: string;
  /**
   * When Lambda ends this invocation, in ms since the epoch (the Lambda context's `deadline`): work that
   * waits (the migrate event's retries) stops a margin before it.
   */
  readonly deadline?: number;
  /**
   * True only for a non-HTTP Lambda event: the adapter sends its request context as exactly `null` then.
   * Anything else (API Gateway's context, an ALB's, a Function URL's, none at all) is an HTTP request.
   */
  readonly passThroughEvent: boolean;
}

const MAX_HEADER_LENGTH = 16 * 1024;
const SAFE_ID = /^[\w.:=/+-]{1,128}$/;
/** X-Ray: Root=1-…;Parent=…;Sampled=1 (and optional Lineage). */
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
    // The adapter's Lambda context (it overwrites that header), not x-amzn-trace-id, which a client sets.
    xrayTraceId: pick(lambda?.xray_trace_id, SAFE_TRACE),
    deadline: pickEpochMs(lambda?.deadline),
    // lambda_http's RequestContext::PassThrough; the adapter overwrites any copy a client sent.
    passThroughEvent: headers['x-amzn-request-context'] === 'null',
  });
}

/** Outside Lambda: no API Gateway, no Lambda ids; the caller is the socket's peer. */
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

/** A positive whole number of milliseconds; how far it lies ahead is for its user to judge. */
function pickEpochMs(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** Drops the fields that are undefined (a loop: this runs on every request). */
function prune<T extends object>(value: T): T {
  const pruned: Partial<T> = {};
  for (const key in value) if (value[key] !== undefined) pruned[key] = value[key];
  return pruned as T;
}

// Load phases with autocannon on loopback; response times are also taken exactly from each 'response'
// event, because autocannon's histogram has 1 ms buckets, too coarse for sub-millisecond gaps.
import autocannon from 'autocannon';

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadRound {
  readonly rps: number;
  /** Responses autocannon received in the round. */
  readonly requests: number;
  readonly latenciesMs: number[];
  readonly errors: number;
  readonly non2xx: number;
}

export async function loadRound({
  url,
  connections,
  durationSeconds,
  headers,
}: LoadOptions): Promise<LoadRound> {
  if (!/^http:\/\/127\.0\.0\.1:/.test(url)) throw new Error(`load only against loopback, not ${url}`);
  const latenciesMs: number[] = [];
  const instance = autocannon({
    url,
    connections,
    duration: durationSeconds,
    pipelining: 1,
    timeout: 10,
    ...(headers === undefined ? {} : { headers: { ...headers } }),
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode === 200) latenciesMs.push(responseTime);
  });
  const result = await instance;
  return {
    rps: result.requests.total / result.duration,
    requests: result.requests.total,
    latenciesMs,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

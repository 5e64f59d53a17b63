// Fires N simultaneous GETs at one loopback URL (one socket each) and tallies the answers by status and
// error code, noting which 503s lacked Retry-After. Used by bench/covers.ts and test/api/books/overload.test.ts.
import { Agent, request } from 'node:http';

export interface DownloadTally {
  readonly requests: number;
  /** "200", "503 5031", "socket error", … → how many. */
  readonly answers: Record<string, number>;
  /** 503 and 429 answers that carried no Retry-After. */
  readonly withoutRetryAfter: number;
  readonly elapsedMs: number;
}

export async function downloadInParallel(url: string, count: number): Promise<DownloadTally> {
  if (!/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+\//.test(url)) throw new Error(`loopback only, not ${url}`);
  const agent = new Agent({ keepAlive: false, maxSockets: count });
  const answers: Record<string, number> = {};
  let withoutRetryAfter = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const answer = await get(url, agent).catch(() => ({
        status: 0,
        body: Buffer.alloc(0),
        retryAfter: undefined,
      }));
      const key = answer.status === 0 ? 'socket error' : describe(answer.status, answer.body);
      answers[key] = (answers[key] ?? 0) + 1;
      if ((answer.status === 503 || answer.status === 429) && answer.retryAfter === undefined)
        withoutRetryAfter += 1;
    }),
  );
  agent.destroy();
  return { requests: count, answers, withoutRetryAfter, elapsedMs: Math.round(performance.now() - started) };
}

function get(
  url: string,
  agent: Agent,
): Promise<{ status: number; body: Buffer; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), retryAfter });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A success is its status; an error is its status and envelope code. */
function describe(status: number, body: Buffer): string {
  if (status < 400) return String(status);
  try {
    const { code } = JSON.parse(body.toString('utf8')) as { code?: unknown };
    return `${status} ${String(code)}`;
  } catch {
    return `${status} (no envelope)`;
  }
}

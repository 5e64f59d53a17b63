// The service as a child process on a free loopback port (tests and benchmarks): its environment, and
// the wait until a URL of it answers 200.
import { freePort } from '../tools/free-port.ts';

export interface LoopbackService {
  readonly port: number;
  readonly origin: string;
  /** Only PATH is inherited: the database, a 127.0.0.1 listener, LOG_LEVEL info, then `env`. */
  readonly env: Record<string, string | undefined>;
}

export async function loopbackService(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<LoopbackService> {
  const port = await freePort();
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      ...env,
    },
  };
}

/** Polls `url` every 100 ms; fails after 30 s with what `output` returns (the child's log). */
export async function waitFor200(url: string, output: () => string = () => ''): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered 200:\n${output()}`);
}

// Starting servers under test and reading what Linux knows about them (RSS, CPU time).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { inGroup } from './cpu-share.ts';

/** The service's environment as the image runs it (production, access log on), on `databaseUrl`. */
export function productionEnv(databaseUrl: string, apiKeysRequired = false): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    APP_ENV: 'prod',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    API_KEYS_REQUIRED: String(apiKeysRequired),
  };
}

export interface Launch {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

export interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything the process wrote to stderr (start-up failures). */
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` on `port`; stdout (request logs) is discarded, as a log shipper would. With
 * `procsFile` the process runs in that cgroup from before node starts (see cpu-share.ts).
 */
export function launch({ args, env, cwd }: Launch, port: number, procsFile?: string): Running {
  const command =
    procsFile === undefined
      ? { file: process.execPath, args: [...args] }
      : inGroup(procsFile, [process.execPath, ...args]);
  const child = spawn(command.file, command.args, {
    cwd,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });
  return {
    child,
    port,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** One GET on a fresh connection; resolves the status, or 0 when nothing listens yet. */
export function probe(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.once('end', () => {
        resolve(res.statusCode ?? 0);
      });
    });
    req.once('error', () => {
      resolve(0);
    });
    req.end();
  });
}

/**
 * Polls `path` every millisecond (the Lambda Web Adapter polls every 10 ms) until it answers 200.
 * Resolves the time since `since` (performance.now() at spawn); throws if the process exits or after
 * `timeoutMs`.
 */
export async function waitFor200(
  running: Running,
  path: string,
  since: number,
  timeoutMs = 15_000,
): Promise<number> {
  for (;;) {
    const status = await probe(running.port, path);
    if (status === 200) return performance.now() - since;
    if (running.child.exitCode !== null) {
      throw new Error(`server exited with ${running.child.exitCode}: ${running.stderr().slice(-2000)}`);
    }
    if (performance.now() - since > timeoutMs) {
      throw new Error(`no 200 on ${path} within ${timeoutMs} ms: ${running.stderr().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

export interface ProcMemory {
  /** Resident set size now, MB. */
  readonly rssMb: number;
  /** Peak resident set size, MB. */
  readonly peakMb: number;
}

/** VmRSS and VmHWM from /proc (Linux); NaN elsewhere. */
export function memoryOf(pid: number): ProcMemory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: Number.NaN, peakMb: Number.NaN };
  }
}

/**
 * CPU time the process has used so far, in ms, summed over its threads (main thread, V8 and libuv
 * workers): nanosecond-precise, from /proc/<pid>/task/<tid>/schedstat. NaN where that is unavailable.
 */
export function cpuMsOf(pid: number): number {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1e6;
  } catch {
    return Number.NaN;
  }
}

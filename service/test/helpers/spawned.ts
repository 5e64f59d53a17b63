// A child process whose output is collected. It leads its own process group, so that teardown can kill
// it together with whatever it started (node --watch, PostgreSQL) if a test left it running.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { Teardown } from './teardown.ts';

export interface Spawned {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the output once `pattern` appears in it; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<string>;
}

export function spawnCollecting(
  t: Teardown,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): Spawned {
  let output = '';
  const waiters = new Set<() => void>();
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters) wake();
    }),
  );
  t.teardown(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The whole group has already exited.
    }
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (pattern.test(output)) {
          waiters.delete(check);
          resolve(output);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          waiters.delete(check);
          reject(new Error(`exited before printing ${String(pattern)}:\n${output}`));
        }
      };
      waiters.add(check);
      check();
    });
  return { child, output: () => output, exited, waitFor };
}

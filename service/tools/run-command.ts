// Runs the commands the image test and the bench need (engines, cargo, go), with their output.
import { spawn } from 'node:child_process';

export interface RunOptions {
  readonly timeoutMs?: number;
  /** Receives each output line as it comes (long builds show progress). */
  readonly log?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end, with its output (never throws on a non-zero exit). */
export function runCommand(
  command: string,
  args: readonly string[],
  { timeoutMs = 600_000, log, env }: RunOptions = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const lines = (chunk: Buffer) => {
      if (log) for (const line of chunk.toString().split('\n')) if (line.trim() !== '') log(line);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      lines(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      lines(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed; its output on failure is in the error. */
export async function mustRun(
  command: string,
  args: readonly string[],
  options?: RunOptions,
): Promise<string> {
  const ran = await runCommand(command, args, options);
  if (ran.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${String(ran.code)}:\n${ran.stdout.slice(-4000)}\n${ran.stderr.slice(-4000)}`,
    );
  }
  return ran.stdout;
}

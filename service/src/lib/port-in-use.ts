// A taken port is the commonest first-run failure (another checkout's `npm run dev`, a forgotten
// server): it gets one line that names the port and the variable that moves it, never a stack.
import { ConfigError } from '../config.ts';

export interface PortInUse {
  /** Who wanted the port, e.g. "The API" or "The embedded PostgreSQL". */
  readonly server: string;
  readonly host: string;
  readonly port: number;
  /** The environment variable that chooses this port. */
  readonly variable: string;
}

export function portInUseError({ server, host, port, variable }: PortInUse, cause?: unknown): ConfigError {
  const another = port < 65535 ? port + 1 : port - 1;
  return new ConfigError(
    `${server} cannot listen on ${host}:${port}: another process already uses that port. ` +
      `Stop it, or set ${variable} to a free port (e.g. ${variable}=${another}).`,
    { cause },
  );
}

/** Node's error for a port someone else listens on (net, http, hapi). */
export function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

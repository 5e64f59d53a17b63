// A taken port (the commonest first-run failure) gets one line naming the port and its variable.
import { ConfigError } from '../config.ts';

export interface PortInUse {
  readonly server: string;
  readonly host: string;
  readonly port: number;
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

export function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

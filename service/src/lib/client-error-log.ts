// Anyone can cause a 'clientError', and it carries raw bytes: logged at debug, allow-listed, counted.
import type { Logger } from 'pino';

const MAX_FIELD_LENGTH = 200;
const CLIENT_ERROR_SUMMARY_INTERVAL_MS = 60_000;

interface ClientErrorFields {
  readonly code?: string;
  readonly message?: string;
  readonly remoteAddress?: string;
}

function clientErrorFields(error: unknown, remoteAddress: string | undefined): ClientErrorFields {
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
  };
  const fields: Record<string, string> = {};
  if (typeof code === 'string') fields.code = code.slice(0, MAX_FIELD_LENGTH);
  if (typeof message === 'string') fields.message = message.slice(0, MAX_FIELD_LENGTH);
  if (remoteAddress !== undefined) fields.remoteAddress = remoteAddress;
  return fields;
}

export class ClientErrorLog {
  private count = 0;
  private byCode: Record<string, number> = {};
  private timer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly intervalMs: number;

  constructor(logger: Logger, intervalMs = CLIENT_ERROR_SUMMARY_INTERVAL_MS) {
    this.logger = logger;
    this.intervalMs = intervalMs;
  }

  // Inside 'clientError' a throw would end the process.
  record(error: unknown, remoteAddress: string | undefined): void {
    let fields: ClientErrorFields = {};
    try {
      fields = clientErrorFields(error, remoteAddress);
      this.logger.debug(fields, 'client error');
    } catch {
      // Unreadable error objects still count, as UNKNOWN.
    }
    this.count++;
    const code = fields.code ?? 'UNKNOWN';
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
    // Unref'd so it never holds the process open; stop() flushes it.
    this.timer ??= setTimeout(() => {
      this.flush();
    }, this.intervalMs).unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    this.logger.info(
      { clientErrors: this.count, codes: this.byCode },
      `${this.count} client error(s) (rejected requests, reset or timed-out sockets)`,
    );
    this.count = 0;
    this.byCode = {};
  }
}

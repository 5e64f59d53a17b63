// A loopback TCP proxy in front of a real PostgreSQL that records what clients send: each connection's
// startup parameters and every frontend message (simple queries, Parse/Bind names, function calls, ...).
import { connect, createServer, type Socket } from 'node:net';
import type { Teardown } from './teardown.ts';

/** One frontend message after the startup, decoded where it matters for session state. */
type FrontendMessage =
  | { readonly type: 'Query'; readonly sql: string }
  | { readonly type: 'Parse'; readonly statement: string; readonly sql: string }
  | { readonly type: 'Bind'; readonly portal: string; readonly statement: string }
  | { readonly type: 'Close'; readonly kind: string; readonly name: string }
  | { readonly type: 'FunctionCall' }
  | { readonly type: 'Other'; readonly code: string };

export interface RecordedConnection {
  /** The StartupMessage's parameters (user, database, and whatever else the driver sends). */
  readonly startup: Record<string, string>;
  /** Whether the client asked for TLS (an SSLRequest) or a cancel (a CancelRequest) first. */
  readonly preludes: string[];
  readonly messages: FrontendMessage[];
}

export interface PgWireRecorder {
  readonly port: number;
  readonly connections: readonly RecordedConnection[];
  /** Client connections open now, and the most open at once so far. */
  readonly open: number;
  readonly peak: number;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

export async function startPgWireRecorder(t: Teardown, targetPort: number): Promise<PgWireRecorder> {
  const connections: RecordedConnection[] = [];
  const sockets = new Set<Socket>();
  let open = 0;
  let peak = 0;
  const server = createServer((client) => {
    const record: RecordedConnection = { startup: {}, preludes: [], messages: [] };
    connections.push(record);
    open += 1;
    peak = Math.max(peak, open);
    client.once('close', () => {
      open -= 1;
    });
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    const decoder = new FrontendDecoder(record);
    client.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the recorder has no port');
  return {
    port: address.port,
    connections,
    get open() {
      return open;
    },
    get peak() {
      return peak;
    },
  };
}

/** Splits the client's byte stream into protocol messages (they may span or share TCP chunks). */
class FrontendDecoder {
  #buffer = Buffer.alloc(0);
  #started = false;
  readonly #record: RecordedConnection;

  constructor(record: RecordedConnection) {
    this.#record = record;
  }

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (!this.#started) {
        if (this.#buffer.length < 8) return;
        const length = this.#buffer.readInt32BE(0);
        if (this.#buffer.length < length) return;
        this.#untyped(this.#buffer.subarray(4, length));
        this.#buffer = this.#buffer.subarray(length);
        continue;
      }
      if (this.#buffer.length < 5) return;
      const length = this.#buffer.readInt32BE(1);
      if (this.#buffer.length < length + 1) return;
      this.#typed(String.fromCharCode(this.#buffer[0] ?? 0), this.#buffer.subarray(5, length + 1));
      this.#buffer = this.#buffer.subarray(length + 1);
    }
  }

  #untyped(body: Buffer): void {
    const code = body.readInt32BE(0);
    if (code === SSL_REQUEST) this.#record.preludes.push('SSLRequest');
    else if (code === GSSENC_REQUEST) this.#record.preludes.push('GSSENCRequest');
    else if (code === CANCEL_REQUEST) this.#record.preludes.push('CancelRequest');
    else if (code === PROTOCOL_3) {
      const fields = cStrings(body.subarray(4));
      for (let i = 0; i + 1 < fields.length; i += 2) {
        this.#record.startup[fields[i] ?? ''] = fields[i + 1] ?? '';
      }
      this.#started = true;
    } else this.#record.preludes.push(`unknown ${code}`);
  }

  #typed(code: string, body: Buffer): void {
    const { messages } = this.#record;
    if (code === 'Q') messages.push({ type: 'Query', sql: cStrings(body)[0] ?? '' });
    else if (code === 'P') {
      const [statement = '', sql = ''] = cStrings(body);
      messages.push({ type: 'Parse', statement, sql });
    } else if (code === 'B') {
      const [portal = '', statement = ''] = cStrings(body);
      messages.push({ type: 'Bind', portal, statement });
    } else if (code === 'C') {
      messages.push({
        type: 'Close',
        kind: String.fromCharCode(body[0] ?? 0),
        name: cStrings(body.subarray(1))[0] ?? '',
      });
    } else if (code === 'F') messages.push({ type: 'FunctionCall' });
    else messages.push({ type: 'Other', code });
  }
}

/** The NUL-terminated strings at the start of `body` (stops at the first empty one or the end). */
function cStrings(body: Buffer): string[] {
  const strings: string[] = [];
  let start = 0;
  while (start < body.length) {
    const end = body.indexOf(0, start);
    if (end === -1) break;
    strings.push(body.toString('utf8', start, end));
    start = end + 1;
  }
  return strings;
}

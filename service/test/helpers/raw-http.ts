// One request written as raw bytes on a fresh socket to 127.0.0.1, for what server.inject never exercises
// (Node's HTTP parser, hapi's early error paths): everything the server sent back until the socket closed.
import { connect } from 'node:net';

/** A reset is one of the server's possible answers; a socket still open after `timeoutMs` is cut off. */
export function rawExchange(port: number, bytes: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

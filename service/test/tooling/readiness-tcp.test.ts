// The adapter's readiness check is a TCP connect: the service must answer on the very first connection it
// accepts. The bundle and the image's snapshot start, connected to from spawn on, every millisecond.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { freePort } from '../../tools/free-port.ts';
import { SNAPSHOT_BUILD_ARGS, SNAPSHOT_RUN_ARGS } from '../../tools/snapshot-build-args.ts';
import { buildBundle } from '../helpers/bundle.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { spawnCollecting } from '../helpers/spawned.ts';

const root = path.resolve(import.meta.dirname, '../../..');

void t.test('the image has the adapter check readiness over TCP', async (t) => {
  const dockerfile = readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8');
  t.match(dockerfile, /^\s*AWS_LWA_READINESS_CHECK_PROTOCOL=tcp\b/m);
});

/** The first connection the server accepts, tried every millisecond (the adapter: every 10 ms). */
async function firstConnection(port: number, exited: () => boolean): Promise<Socket> {
  for (let attempt = 0; attempt < 30_000; attempt++) {
    const socket = await new Promise<Socket | undefined>((resolve) => {
      const candidate = connect(port, '127.0.0.1', () => {
        resolve(candidate);
      });
      candidate.once('error', () => {
        resolve(undefined);
      });
    });
    if (socket !== undefined) return socket;
    if (exited()) throw new Error('the server exited before listening');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error('never listened');
}

/** One GET on `socket` (closed after); the status line's code. */
function get(socket: Socket, target: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
    socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

const bundleDir = await buildBundle(t, 'readiness-tcp-bundle-');
await promisify(execFile)(process.execPath, [...SNAPSHOT_BUILD_ARGS], { cwd: bundleDir });
const db = await startTestDatabase(t);

for (const [name, args] of [
  ['the bundle', ['main.mjs']],
  ['the startup snapshot (the image command)', [...SNAPSHOT_RUN_ARGS]],
] as const) {
  void t.test(`${name}: the first accepted connection is served, the database check included`, async (t) => {
    const port = await freePort();
    const server = spawnCollecting(t, process.execPath, [...args], {
      cwd: bundleDir,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        APP_ENV: 'test',
        DATABASE_URL: db.url,
        API_KEYS_REQUIRED: 'false',
      },
    });
    const exited = () => server.child.exitCode !== null || server.child.signalCode !== null;
    const health = await get(await firstConnection(port, exited), '/health');
    t.equal(health.status, 200, `/health on the first connection: ${health.text.slice(0, 300)}`);
    // The ORM loads on this request: answering it needs nothing that start-up has not done.
    const ready = await get(await firstConnection(port, exited), '/health/ready');
    t.equal(ready.status, 200, `a database query right after: ${ready.text.slice(0, 300)}`);
  });
}

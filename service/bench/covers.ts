// `npm run bench:covers`: BENCH_PARALLEL (400) simultaneous downloads of a 1 MiB cover on loopback; prints
// answers by status and code, never fails. BENCH_SERVICE_DIR serves another checkout (before/after runs).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../tools/embedded-postgres.ts';
import { loopbackService, waitFor200 } from './loopback-service.ts';
import { migrateDatabase } from '../tools/with-orm.ts';
import { isbn13CheckDigit } from '../src/modules/books/isbn.ts';
import { storeLargestCover } from './largest-cover.ts';
import { downloadInParallel } from './parallel-downloads.ts';

const SERVICE_DIR = process.env.BENCH_SERVICE_DIR ?? path.resolve(import.meta.dirname, '..');
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 400);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const root = await mkdtemp(path.join(tmpdir(), 'bench-covers-'));
const db = await startEmbeddedPostgres({ dataDir: path.join(root, 'pgdata'), persistent: false, fast: true });
const { origin, env } = await loopbackService(db.url, { LOG_LEVEL: 'warn' });
const service = spawn(process.execPath, ['src/index.ts'], {
  cwd: SERVICE_DIR,
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  await migrateDatabase({ DATABASE_URL: db.url });
  await waitFor200(`${origin}/health/ready`);
  const body = `978${String(Date.now()).slice(-9)}`;
  const cover = await storeLargestCover(origin, `${body}${isbn13CheckDigit(body)}`);
  if (cover.status !== 200) throw new Error(`cover upload answered ${cover.status}`);
  for (let round = 1; round <= ROUNDS; round++) {
    const tally = await downloadInParallel(cover.url, PARALLEL);
    const ready = await fetch(`${origin}/health/ready`);
    console.log(JSON.stringify({ round, ...tally, readyAfter: ready.status }));
  }
} finally {
  service.kill('SIGTERM');
  await new Promise((resolve) => service.once('exit', resolve));
  await db.stop();
  await rm(root, { recursive: true, force: true });
}

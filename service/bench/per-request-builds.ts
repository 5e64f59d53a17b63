// `node bench/per-request-builds.ts before=<dist> after=<dist>`: a warm GET's CPU per request for several
// builds in the same rounds (fresh processes every round), against one raw `pg` query; BENCH_KEYED=1 sends a key.
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../tools/embedded-postgres.ts';
import { freePort } from '../tools/free-port.ts';
import { cpuMsOf, launch, productionEnv, waitFor200, type Running } from './processes.ts';
import { quantile } from './stats.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const WARM_UP = 1000;
const KEYED = process.env.BENCH_KEYED === '1';
const SELECT_BOOK =
  'select id, title, author, isbn, published_year, created_at, updated_at from books where id = $1 and deleted_at is null';

const builds = process.argv.slice(2).map((arg) => {
  const [name = '', dist = ''] = arg.split('=');
  if (name === '' || dist === '') throw new Error(`expected name=<dist folder>, got ${arg}`);
  return { name, dist: path.resolve(dist), us: [] as number[] };
});
const first = builds[0];
if (first === undefined)
  throw new Error('usage: node bench/per-request-builds.ts before=<dist> after=<dist>');
const median = (values: readonly number[]) => quantile(values, 0.5);

const db = await startEmbeddedPostgres({
  dataDir: process.env.BENCH_PGDATA ?? path.resolve(import.meta.dirname, '../../.bench/per-request-pgdata'),
  persistent: false,
  fast: true,
});
try {
  const env = productionEnv(db.url, KEYED);
  await promisify(execFile)(process.execPath, [path.join(first.dist, 'main.mjs'), 'migrate'], {
    env: { ...env, LOG_LEVEL: 'warn' },
  });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query<{ id: string }>(
    `insert into books (id, title, author, isbn, published_year, created_at, updated_at)
     values (gen_random_uuid(), 'The Benchmark', 'A. Author', '9780000000002', 2026, now(), now()) returning id`,
  );
  const id = rows[0]?.id ?? '';
  // A key with limits no run reaches, stored as keys:create stores one (its SHA-256).
  const prefix = `ak_${Array.from(randomBytes(12), (byte) => 'abcdefghijklmnopqrstuvwxyz234567'.charAt(byte & 31)).join('')}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  await client.query(
    `insert into api_keys (id, prefix, key_hash, name, daily_quota, rate_limit_per_minute, created_at)
     values (gen_random_uuid(), $1, $2, 'bench', 1000000000, 1000000, now())`,
    [prefix, createHash('sha256').update(key).digest('hex')],
  );
  const headers = KEYED ? { 'x-api-key': key } : {};

  const gets = async (port: number, agent: Agent, count: number) => {
    for (let i = 0; i < count; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: `/v1/books/${id}`, agent, headers }, (res) => {
          res.resume();
          res.once('end', () => {
            resolve(res.statusCode ?? 0);
          });
        });
        req.once('error', reject);
        req.end();
      });
      if (status !== 200) throw new Error(`GET /v1/books/${id} answered ${String(status)}`);
    }
  };
  const start = async (dist: string) => {
    const server = launch({ args: [path.join(dist, 'main.mjs')], env, cwd: dist }, await freePort());
    await waitFor200(server, '/health', performance.now());
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await gets(server.port, agent, WARM_UP);
    return { server, agent };
  };

  const rawUs: number[] = [];
  for (let i = 0; i < WARM_UP; i++) await client.query(SELECT_BOOK, [id]);
  const loadAtStart = loadavg();
  for (let round = 0; round < ROUNDS; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) await client.query(SELECT_BOOK, [id]);
    const used = process.cpuUsage(before);
    rawUs.push((used.user + used.system) / REQUESTS);
    // A process can stay faster or slower than its twin for its whole life: fresh ones every round.
    const order = builds.map((_, k) => builds[(round + k) % builds.length] ?? first);
    const running: { build: (typeof builds)[number]; server: Running; agent: Agent }[] = [];
    for (const build of order) running.push({ build, ...(await start(build.dist)) });
    for (const { build, server, agent } of running) {
      const pid = server.child.pid ?? 0;
      const cpuBefore = cpuMsOf(pid);
      await gets(server.port, agent, REQUESTS);
      build.us.push(((cpuMsOf(pid) - cpuBefore) * 1000) / REQUESTS);
    }
    for (const { server, agent } of running) {
      agent.destroy();
      await server.stop();
    }
    const figures = builds.map((build) => `${build.name} ${(build.us.at(-1) ?? 0).toFixed(0)}`).join(', ');
    process.stderr.write(
      `round ${String(round + 1)}: raw pg ${(rawUs.at(-1) ?? 0).toFixed(0)}, ${figures}\n`,
    );
  }
  await client.end();
  const list = (values: readonly number[]) => values.map((value) => value.toFixed(0)).join(', ');
  process.stdout.write(
    [
      `µs CPU per GET /v1/books/{id}${KEYED ? ' with an API key' : ''}, ${String(REQUESTS)} per round, load average ${loadAtStart[0]?.toFixed(1) ?? '?'} → ${loadavg()[0]?.toFixed(1) ?? '?'}:`,
      `  raw pg query: median ${median(rawUs).toFixed(0)} (${list(rawUs)})`,
      ...builds.map((build) => {
        const lower = build.us.filter((us, round) => us < (first.us[round] ?? 0)).length;
        return `  ${build.name}: median ${median(build.us).toFixed(0)}, ${(median(build.us) / median(rawUs)).toFixed(2)}× raw pg, lower than ${first.name} in ${String(lower)}/${String(ROUNDS)} rounds (${list(build.us)})`;
      }),
    ].join('\n') + '\n',
  );
} finally {
  await db.stop();
}

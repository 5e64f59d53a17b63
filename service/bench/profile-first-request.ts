// `node bench/profile-first-request.ts`: where the first database request's CPU goes after a cold start.
// The image's start (snapshot blob) under --cpu-prof twice, /health only and /health then one book.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { benchDataDir } from '../tools/dev-database.ts';
import { startEmbeddedPostgres } from '../tools/embedded-postgres.ts';
import { freePort } from '../tools/free-port.ts';
import { SNAPSHOT_BUILD_ARGS, SNAPSHOT_RUN_ARGS } from '../tools/snapshot-build-args.ts';
import { launch, probe, waitFor200 } from './processes.ts';

const run = promisify(execFile);
const serviceDir = path.resolve(import.meta.dirname, '..');
const outDir = path.join(serviceDir, '..', '.bench', 'profile');
const distDir = path.join(outDir, 'dist');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TOP = Number(process.env.BENCH_TOP ?? 25);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const maps = new Map<string, SourceMap | undefined>();
function sourceMap(url: string): SourceMap | undefined {
  if (!maps.has(url)) {
    const file = url.startsWith('file://') ? new URL(url).pathname : url;
    const mapFile = `${file}.map`;
    maps.set(
      url,
      existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as never) : undefined,
    );
  }
  return maps.get(url);
}

/** node_modules/<package> (or service/src/<dir>) of a frame, from the bundle's source map. */
function owner(frame: ProfileNode['callFrame']): string {
  if (frame.url === '') return `(${frame.functionName || 'native'})`;
  const map = sourceMap(frame.url);
  const source = map?.findEntry(frame.lineNumber, frame.columnNumber);
  const original = source !== undefined && 'originalSource' in source ? source.originalSource : frame.url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(original);
  if (pkg?.[1] !== undefined) return pkg[1];
  const own = /src\/(.+?)\/[^/]+$/.exec(original) ?? /src\/([^/]+)$/.exec(original);
  return own?.[1] !== undefined ? `src/${own[1]}` : path.basename(original);
}

/** Sampled CPU ms by owner. */
function byOwner(profile: Profile): Map<string, number> {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    if (node === undefined) return;
    const key = owner(node.callFrame);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return totals;
}

const db = await startEmbeddedPostgres({
  dataDir: await benchDataDir(path.join(serviceDir, '..')),
  persistent: false,
  fast: true,
});
try {
  await rm(outDir, { recursive: true, force: true });
  await run(process.execPath, ['scripts/build.ts'], {
    cwd: serviceDir,
    env: { ...process.env, BUILD_OUT_DIR: distDir, SOURCEMAP: '1' },
  });
  await run(process.execPath, [...SNAPSHOT_BUILD_ARGS], { cwd: distDir });
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    APP_ENV: 'prod',
    LOG_LEVEL: 'info',
    DATABASE_URL: db.url,
    API_KEYS_REQUIRED: 'false',
  };
  await run(process.execPath, ['main.mjs', 'migrate'], { cwd: distDir, env: { ...env, LOG_LEVEL: 'warn' } });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query<{ id: string }>(
    `insert into books (id, title, author, isbn, published_year, created_at, updated_at)
     values (gen_random_uuid(), 'The Benchmark', 'A. Author', '9780000000002', 2026, now(), now()) returning id`,
  );
  await client.end();
  const bookPath = `/v1/books/${rows[0]?.id ?? ''}`;

  const sums = { health: new Map<string, number>(), book: new Map<string, number>() };
  for (let i = 0; i < RUNS; i++) {
    for (const kind of ['health', 'book'] as const) {
      const dir = path.join(outDir, `${kind}-${String(i)}`);
      await mkdir(dir, { recursive: true });
      const port = await freePort();
      const since = performance.now();
      const server = launch(
        { args: ['--cpu-prof', '--cpu-prof-dir', dir, ...SNAPSHOT_RUN_ARGS], env, cwd: distDir },
        port,
      );
      await waitFor200(server, '/health', since);
      if (kind === 'book' && (await probe(port, bookPath)) !== 200) throw new Error(`${bookPath} not 200`);
      // SIGINT: the service drains and exits, and node writes the profile.
      server.child.kill('SIGINT');
      await new Promise((resolve) => server.child.once('exit', resolve));
      const [file] = await readdir(dir);
      const profile = JSON.parse(readFileSync(path.join(dir, file ?? ''), 'utf8')) as Profile;
      for (const [key, ms] of byOwner(profile)) sums[kind].set(key, (sums[kind].get(key) ?? 0) + ms / RUNS);
    }
  }
  const keys = new Set([...sums.health.keys(), ...sums.book.keys()]);
  const rowsOut = [...keys]
    .map((key) => ({ key, health: sums.health.get(key) ?? 0, book: sums.book.get(key) ?? 0 }))
    .map((row) => ({ ...row, extra: row.book - row.health }))
    .sort((a, b) => b.extra - a.extra);
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(
    [
      `Sampled CPU ms (mean of ${String(RUNS)} starts from the snapshot; --cpu-prof, main thread): /health only ${total(sums.health).toFixed(0)}, /health + first book ${total(sums.book).toFixed(0)}`,
      `${'owner (source map)'.padEnd(40)} ${'health'.padStart(7)} ${'+book'.padStart(7)} ${'extra'.padStart(7)}`,
      ...rowsOut
        .slice(0, TOP)
        .map(
          (r) =>
            `${r.key.padEnd(40)} ${r.health.toFixed(1).padStart(7)} ${r.book.toFixed(1).padStart(7)} ${r.extra.toFixed(1).padStart(7)}`,
        ),
    ].join('\n') + '\n',
  );
} finally {
  await db.stop();
}

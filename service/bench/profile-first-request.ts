// `node bench/profile-first-request.ts`: where the first database request's CPU goes after a cold start (the
// snapshot under --cpu-prof, /health only vs /health + one book); BENCH_PROFILE=warm: 5,000 warm GETs.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Agent, request } from 'node:http';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../tools/embedded-postgres.ts';
import { freePort } from '../tools/free-port.ts';
import { SNAPSHOT_BUILD_ARGS, SNAPSHOT_RUN_ARGS } from '../tools/snapshot-build-args.ts';
import { cpuMsOf, launch, probe, productionEnv, waitFor200 } from './processes.ts';

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

/** Sampled CPU ms by function (name, owner, original line). */
function byFunction(profile: Profile): Map<string, number> {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    if (node === undefined) return;
    const frame = node.callFrame;
    const entry = sourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
    const where =
      entry !== undefined && 'originalSource' in entry
        ? `${entry.originalSource.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${String(entry.originalLine + 1)}`
        : (frame.url.split('/').at(-1) ?? '');
    const key = `${frame.functionName || '(anonymous)'} ${where}`;
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return totals;
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

// A data folder of its own: another bench run on the shared .bench/pgdata would stop this one's server.
const dataRoot = await mkdtemp(path.join(tmpdir(), 'profile-pgdata-'));
const db = await startEmbeddedPostgres({
  dataDir: path.join(dataRoot, 'pgdata'),
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
  const env = productionEnv(db.url);
  await run(process.execPath, ['main.mjs', 'migrate'], { cwd: distDir, env: { ...env, LOG_LEVEL: 'warn' } });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query<{ id: string }>(
    `insert into books (id, title, author, isbn, published_year, created_at, updated_at)
     values (gen_random_uuid(), 'The Benchmark', 'A. Author', '9780000000002', 2026, now(), now()) returning id`,
  );
  await client.end();
  const bookPath = `/v1/books/${rows[0]?.id ?? ''}`;

  if (process.env.BENCH_PROFILE === 'compile-cache') {
    // The lazy file's parse and compile: the same starts with Node's compile cache (filled by one start).
    const cacheDir = path.join(outDir, 'compile-cache');
    const variants = { plain: env, cached: { ...env, NODE_COMPILE_CACHE: cacheDir } };
    const figures = {
      plain: { health: [] as number[], book: [] as number[] },
      cached: { health: [] as number[], book: [] as number[] },
    };
    for (let i = -1; i < RUNS; i++) {
      for (const [name, variantEnv] of Object.entries(variants) as [keyof typeof variants, typeof env][]) {
        const port = await freePort();
        const server = launch({ args: [...SNAPSHOT_RUN_ARGS], env: variantEnv, cwd: distDir }, port);
        await waitFor200(server, '/health', performance.now());
        const pid = server.child.pid ?? 0;
        const health = cpuMsOf(pid);
        if ((await probe(port, bookPath)) !== 200) throw new Error(`${bookPath} not 200`);
        const book = cpuMsOf(pid);
        await server.stop();
        if (i < 0) continue; // the run that fills the cache
        figures[name].health.push(health);
        figures[name].book.push(book);
      }
    }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;
    for (const [name, f] of Object.entries(figures)) {
      process.stdout.write(
        `${name}: CPU ms to /health ${med(f.health).toFixed(0)}, to first book ${med(f.book).toFixed(0)} (medians of ${String(RUNS)}; ${f.health.map((h, k) => `${h.toFixed(0)}→${(f.book[k] ?? 0).toFixed(0)}`).join(' ')})\n`,
      );
    }
  } else if (process.env.BENCH_PROFILE === 'warm') {
    const dir = path.join(outDir, 'warm');
    await mkdir(dir, { recursive: true });
    const port = await freePort();
    const server = launch(
      { args: ['--cpu-prof', '--cpu-prof-dir', dir, 'main.mjs'], env, cwd: distDir },
      port,
    );
    await waitFor200(server, '/health', performance.now());
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 5000; i++) {
      await new Promise<void>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: bookPath, agent }, (res) => {
          res.resume();
          res.once('end', resolve);
        })
          .once('error', reject)
          .end();
      });
    }
    agent.destroy();
    server.child.kill('SIGINT');
    await new Promise((resolve) => server.child.once('exit', resolve));
    const [file] = await readdir(dir);
    const profile = JSON.parse(readFileSync(path.join(dir, file ?? ''), 'utf8')) as Profile;
    const owners = [...byOwner(profile)].sort((a, b) => b[1] - a[1]);
    const functions = [...byFunction(profile)].sort((a, b) => b[1] - a[1]);
    const line = ([key, ms]: [string, number]) =>
      `${key.padEnd(70)} ${((ms * 1000) / 5000).toFixed(1).padStart(7)}`;
    process.stdout.write(
      [
        'Sampled self CPU µs per request (5,000 warm sequential GETs incl. start-up and warm-up), by owner:',
        ...owners.slice(0, TOP).map(line),
        'by function:',
        ...functions.slice(0, TOP).map(line),
      ].join('\n') + '\n',
    );
  } else {
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
  }
} finally {
  await db.stop();
  await rm(dataRoot, { recursive: true, force: true });
}

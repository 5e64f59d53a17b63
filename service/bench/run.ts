// `npm run bench`: the service against a bare node:http server and hapi alone, on loopback; reports, never
// fails. Its BENCH_* settings: docs/performance.md.
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import pg from 'pg';
import { benchDataDir } from '../tools/dev-database.ts';
import { startEmbeddedPostgres } from '../tools/embedded-postgres.ts';
import { freePort } from '../tools/free-port.ts';
import { loadRound, type LoadRound } from './load.ts';
import { createCpuGroups } from './cpu-share.ts';
import { adapterShare, adapterShareReport } from './adapter-share.ts';
import {
  cpuMsOf,
  launch,
  memoryOf,
  probe,
  productionEnv,
  waitFor200,
  type Launch,
  type Running,
} from './processes.ts';
import {
  FIRST_REQUEST_VARIANTS,
  firstRequestFigures,
  firstRequestTable,
  perRequestCpu,
  perRequestTable,
  readinessChecks,
  readinessTable,
  type FirstRequestSample,
} from './first-request.ts';
import {
  COLD_START_VARIANTS,
  coldStartByCpuTable,
  CPU_SHARES,
  formatTable,
  markdownTable,
  memorySizeTable,
  shareKey,
  THROTTLED_VARIANTS,
  evaluate,
  PRICES,
  renderMarkdown,
  renderReport,
  type BenchResults,
  type ColdStartFigures,
  type LoadFigures,
  type MemoryFigures,
} from './report.ts';
import { quantile, summarize } from './stats.ts';
import { SNAPSHOT_BUILD_ARGS } from '../tools/snapshot-build-args.ts';

const run = promisify(execFile);
const serviceDir = path.resolve(import.meta.dirname, '..');
const repoDir = path.resolve(serviceDir, '..');
const outDir = path.join(repoDir, '.bench');
// Built here, not in service/dist/: tests that build at the same time must not see a half-written bundle.
const distDir = path.join(outDir, 'dist');
const imageDir = path.join(outDir, 'image');
const tmpRoot = path.join(outDir, 'tmp');
const hapiFloorFile = path.join(outDir, 'hapi-floor.cjs');

const positiveInt = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const RUNS = positiveInt('BENCH_RUNS', 15);
const SECONDS = positiveInt('BENCH_SECONDS', 5);
const ROUNDS = positiveInt('BENCH_ROUNDS', 3);
const CONNECTIONS = positiveInt('BENCH_CONNECTIONS', 10);
const READY_PATH = '/health';
const PARTS = new Set((process.env.BENCH_PARTS ?? 'cold,load,per-request').split(','));
const REQUESTS = positiveInt('BENCH_REQUESTS', 2000);

const started = performance.now();
// The machine is shared: how busy it was before and after the run goes into the results.
const loadAtStart = loadavg();
const progress = (message: string) => {
  const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(3);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
};

// ---- PostgreSQL (first: a database that cannot start fails the run before the build) -------------
progress('starting embedded PostgreSQL');
const db = await startEmbeddedPostgres({
  // BENCH_PGDATA: a folder of one's own, when another run may use (and stop) the shared one.
  dataDir: process.env.BENCH_PGDATA ?? (await benchDataDir(repoDir)),
  persistent: false,
  fast: true,
});
progress(`embedded PostgreSQL ready (data in ${db.dataDir})`);
const cleanups: (() => Promise<void>)[] = [() => db.stop()];
const cleanup = async () => {
  for (const step of cleanups.reverse()) await step().catch(() => undefined);
  await rm(tmpRoot, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

// ---- build and the image layout ------------------------------------------------------------------
progress('building the bundle (npm run build)');
await run(process.execPath, ['scripts/build.ts'], {
  cwd: serviceDir,
  env: { ...process.env, BUILD_OUT_DIR: distDir },
});
const bundleBytes = await dirBytes(distDir);
// Bundled and minified like the service, so the two differ only in what the service adds to hapi.
await build({
  entryPoints: [path.join(serviceDir, 'bench/hapi-floor.mjs')],
  outfile: hapiFloorFile,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  logLevel: 'warning',
});

/**
 * The image's /app: the bundle, the compile-cache preload, the cache baked from the bundle and the startup
 * snapshot.
 */
async function bakeImageLayout(): Promise<void> {
  await makeWritable(imageDir);
  await rm(imageDir, { recursive: true, force: true });
  await mkdir(imageDir, { recursive: true });
  for (const name of await readdir(distDir, { recursive: true })) {
    const from = path.join(distDir, name);
    if ((await stat(from)).isDirectory()) continue;
    await mkdir(path.dirname(path.join(imageDir, name)), { recursive: true });
    await copyFile(from, path.join(imageDir, name));
  }
  await copyFile(path.join(repoDir, 'docker/compile-cache.mjs'), path.join(imageDir, 'compile-cache.mjs'));
  await run(process.execPath, [
    path.join(repoDir, 'docker/warm-compile-cache.mjs'),
    path.join(imageDir, 'main.mjs'),
    path.join(imageDir, 'compile-cache'),
  ]);
  // The startup snapshot, built by the node that runs it, with the image's command.
  await run(process.execPath, [...SNAPSHOT_BUILD_ARGS], { cwd: imageDir });
}
progress('baking the compile cache and the startup snapshot as docker/Dockerfile does');
await bakeImageLayout();

let runIndex = 0;
/** A fresh TMPDIR per process: on Lambda every cold start begins with an empty /tmp. */
async function freshTmp(): Promise<string> {
  const dir = path.join(tmpRoot, String(runIndex++));
  await mkdir(dir, { recursive: true });
  return dir;
}

async function serviceEnv(): Promise<Record<string, string>> {
  // API keys off: the bench measures the route, not key lookups.
  return { ...productionEnv(db.url), TMPDIR: await freshTmp() };
}

const variants: Record<(typeof COLD_START_VARIANTS)[number], () => Promise<Launch>> = {
  bare: async () => ({
    args: ['bench/bare-server.mjs'],
    env: { PATH: process.env.PATH ?? '', TMPDIR: await freshTmp(), DATABASE_URL: db.url },
    cwd: serviceDir,
  }),
  hapi: async () => ({
    args: [hapiFloorFile],
    env: { PATH: process.env.PATH ?? '', TMPDIR: await freshTmp() },
    cwd: serviceDir,
  }),
  bundled: async () => ({ args: [path.join(distDir, 'main.mjs')], env: await serviceEnv(), cwd: serviceDir }),
  'bundled+cache': async () => ({
    args: ['--import=./compile-cache.mjs', 'main.mjs'],
    env: await serviceEnv(),
    cwd: imageDir,
  }),
  // The image's CMD.
  snapshot: async () => ({
    args: ['--snapshot-blob', 'snapshot.blob'],
    env: await serviceEnv(),
    cwd: imageDir,
  }),
  unbundled: async () => ({ args: ['src/index.ts'], env: await serviceEnv(), cwd: serviceDir }),
};

// A labelled block: a run without the load part ends early and still cleans up.
try {
  parts: {
    progress('migrating and seeding one book');
    await run(process.execPath, [path.join(distDir, 'main.mjs'), 'migrate'], {
      cwd: serviceDir,
      env: { ...(await serviceEnv()), LOG_LEVEL: 'warn' },
    });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    // The book of an earlier run that ended before removing its data is reused, not inserted twice.
    const { rows } = await client
      .query<{ id: string }>(
        `with added as (
         insert into books (id, title, author, isbn, published_year, created_at, updated_at)
         values (gen_random_uuid(), 'The Benchmark', 'A. Author', '9780000000002', 2026, now(), now())
         on conflict do nothing returning id)
       select id from added union all
       select id from books where isbn = '9780000000002' and deleted_at is null limit 1`,
      )
      .finally(() => client.end());
    const bookPath = `/v1/books/${rows[0]?.id ?? ''}`;

    // ---- cold start: interleaved, the order rotating from run to run --------------------------------
    // Every variant unthrottled, and the floors and the shipped service at each CPU share too.
    const cpuGroups = await createCpuGroups(CPU_SHARES);
    if (cpuGroups.available) cleanups.push(() => cpuGroups.remove());
    else progress(`CPU shares not measured, unthrottled only: ${cpuGroups.reason}`);
    const throttling = cpuGroups.available
      ? { available: true, note: `cgroup v1 cpu quota per 100 ms period: ${CPU_SHARES.join(', ')} CPU` }
      : { available: false, note: cpuGroups.reason };
    interface Case {
      readonly level: string;
      readonly variant: (typeof COLD_START_VARIANTS)[number];
      readonly procsFile?: string;
    }
    const cases: Case[] = [
      ...COLD_START_VARIANTS.map((variant) => ({ level: 'unthrottled', variant })),
      ...(cpuGroups.available ? cpuGroups.groups : []).flatMap((group) =>
        THROTTLED_VARIANTS.map((variant) => ({
          level: shareKey(group.share),
          variant,
          procsFile: group.procsFile,
        })),
      ),
    ];
    const cold = new Map<string, { wall: number[]; cpu: number[]; rss: number[] }>(
      cases.map(({ level, variant }) => [`${level} ${variant}`, { wall: [], cpu: [], rss: [] }]),
    );
    const coldFailures: string[] = [];
    // The service's first database-backed answer, right after its first /health (as the adapter sends it).
    const firstBook = new Map<string, FirstRequestSample>();
    for (let i = 0; i < (PARTS.has('cold') ? RUNS : 0); i++) {
      const order = cases.map((_, k) => cases[(i + k) % cases.length] as Case);
      const line: string[] = [];
      for (const { level, variant, procsFile } of order) {
        const key = `${level} ${variant}`;
        const spec = await variants[variant]();
        const port = await freePort();
        const since = performance.now();
        const server = launch(spec, port, procsFile);
        try {
          const wall = await waitFor200(server, READY_PATH, since);
          const pid = server.child.pid ?? 0;
          const sample = cold.get(key);
          sample?.wall.push(wall);
          sample?.cpu.push(cpuMsOf(pid));
          sample?.rss.push(memoryOf(pid).rssMb);
          line.push(`${key} ${wall.toFixed(0)}`);
          if (FIRST_REQUEST_VARIANTS.has(variant)) {
            const healthCpu = sample?.cpu.at(-1) ?? Number.NaN;
            const status = await probe(server.port, bookPath);
            if (status !== 200) throw new Error(`first GET ${bookPath} answered ${status}`);
            const entry = firstBook.get(key) ?? { healthWall: [], healthCpu: [], bookWall: [], bookCpu: [] };
            entry.healthWall.push(wall);
            entry.healthCpu.push(healthCpu);
            entry.bookWall.push(performance.now() - since);
            entry.bookCpu.push(cpuMsOf(pid));
            firstBook.set(key, entry);
            line.push(`→ book ${(performance.now() - since).toFixed(0)}`);
          }
        } catch (error) {
          // One broken variant (say, a half-edited source tree for `unbundled`) must not sink the others.
          coldFailures.push(`${key}: ${error instanceof Error ? error.message : String(error)}`);
          line.push(`${key} FAILED`);
        } finally {
          await server.stop();
        }
      }
      progress(`cold start ${i + 1}/${RUNS} (ms): ${line.join(' · ')}`);
    }
    const coldStart: Record<string, ColdStartFigures> = {};
    const coldStartByCpu: Record<string, Record<string, ColdStartFigures>> = {};
    for (const { level, variant } of cases) {
      const sample = cold.get(`${level} ${variant}`);
      if (sample === undefined || sample.wall.length === 0) continue;
      const figures = {
        wallMs: summarize(sample.wall),
        cpuMs: summarize(sample.cpu),
        rssMb: summarize(sample.rss),
      };
      if (level === 'unthrottled') coldStart[variant] = figures;
      else (coldStartByCpu[level] ??= {})[variant] = figures;
    }
    for (const failure of new Set(coldFailures)) progress(`cold start failure: ${failure.slice(0, 1500)}`);
    const firstRequest = firstRequestFigures(firstBook, coldStartByCpu, coldStart);
    if (firstBook.size > 0) process.stdout.write(`${firstRequestTable(firstRequest)}\n`);

    // ---- per request: the service's warm GET against one raw pg query of the same row ---------------
    const perRequest = PARTS.has('per-request')
      ? await perRequestCpu({
          requests: REQUESTS,
          rounds: ROUNDS,
          bookPath,
          databaseUrl: db.url,
          service: async () => launch(await variants.bundled(), await freePort()),
          baseline:
            process.env.BENCH_BASELINE_DIST === undefined
              ? undefined
              : async () =>
                  launch(
                    {
                      args: [path.resolve(process.env.BENCH_BASELINE_DIST ?? '', 'main.mjs')],
                      env: await serviceEnv(),
                      cwd: serviceDir,
                    },
                    await freePort(),
                  ),
          progress,
        })
      : undefined;
    if (perRequest !== undefined) process.stdout.write(`${perRequestTable(perRequest)}\n`);
    // ---- the adapter's readiness check, HTTP against TCP, at the lowest CPU share --------------------
    const slowest = cpuGroups.available ? cpuGroups.groups[0] : undefined;
    const readiness =
      PARTS.has('readiness') && slowest !== undefined
        ? await readinessChecks(RUNS, async () =>
            launch(await variants.snapshot(), await freePort(), slowest.procsFile),
          )
        : undefined;
    if (readiness !== undefined && slowest !== undefined) {
      process.stdout.write(`${readinessTable(String(slowest.share), readiness)}\n`);
    }
    // ---- the adapter's share of a cold start: the image against an in-process adapter, one emulator ----
    const adapter = PARTS.has('adapter')
      ? await adapterShare({
          imageDir,
          serviceEnv,
          bookPath,
          runs: RUNS,
          warmRequests: REQUESTS / 10,
          groups: cpuGroups.available ? cpuGroups.groups.filter((group) => group.share < 1) : [],
          skip: cpuGroups.available ? undefined : cpuGroups.reason,
          progress,
        })
      : undefined;
    if (adapter !== undefined) {
      const report = adapterShareReport(adapter);
      process.stdout.write(`${report.text}\n`);
      await mkdir(outDir, { recursive: true });
      await writeFile(path.join(outDir, 'adapter-share.md'), `${report.markdown}\n`);
    }
    if (!PARTS.has('load')) {
      const partial = {
        date: new Date().toISOString(),
        loadAverage: loadavg(),
        firstRequest,
        perRequest,
        readiness,
        adapterShare: adapter,
      };
      await mkdir(outDir, { recursive: true });
      await writeFile(path.join(outDir, 'partial.json'), `${JSON.stringify(partial, null, 2)}\n`);
      process.stdout.write(
        `Load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} at end; results: .bench/partial.json\n`,
      );
      break parts;
    }

    // ---- load: the shipped bundle, the bare server and hapi alone, all long-lived -------------------
    const servers: Record<LoadTarget, Running> = {
      bare: launch(await variants.bare(), await freePort()),
      hapi: launch(await variants.hapi(), await freePort()),
      service: launch(await variants.bundled(), await freePort()),
    };
    for (const server of Object.values(servers)) cleanups.push(() => server.stop());
    for (const server of Object.values(servers)) await waitFor200(server, READY_PATH, performance.now());
    const readyMemory = {
      bare: memoryOf(servers.bare.child.pid ?? 0),
      service: memoryOf(servers.service.child.pid ?? 0),
    };
    for (const [name, server] of Object.entries({ bare: servers.bare, service: servers.service })) {
      const status = await fetch(`http://127.0.0.1:${server.port}${bookPath}`).then((r) => r.status);
      if (status !== 200) {
        throw new Error(
          `${name}: GET ${bookPath} answered ${status}; if /v1 now needs an API key, teach bench/run.ts to make one`,
        );
      }
    }

    /** Load rounds against `names`, the order rotating from round to round so drift hits all alike. */
    const phase = async <Name extends LoadTarget>(
      label: string,
      routePath: string,
      connections: number,
      names: readonly Name[],
    ) => {
      // Each round's server CPU time (all threads) per completed request, µs: unlike req/s it is not
      // capped by autocannon, which shares the cores with the servers.
      const rounds = new Map<Name, (LoadRound & { cpuUsPerRequest: number })[]>(
        names.map((name) => [name, []]),
      );
      progress(`${label}: warm-up`);
      for (const name of names) {
        await loadRound({
          url: `http://127.0.0.1:${servers[name].port}${routePath}`,
          connections,
          durationSeconds: 1,
        });
      }
      for (let round = 0; round < ROUNDS; round++) {
        const order = names.map((_, k) => names[(round + k) % names.length] as Name);
        for (const name of order) {
          const pid = servers[name].child.pid ?? 0;
          const cpuBefore = cpuMsOf(pid);
          const result = await loadRound({
            url: `http://127.0.0.1:${servers[name].port}${routePath}`,
            connections,
            durationSeconds: SECONDS,
          });
          const cpuUsPerRequest = ((cpuMsOf(pid) - cpuBefore) * 1000) / result.requests;
          rounds.get(name)?.push({ ...result, cpuUsPerRequest });
          progress(
            `${label} ${round + 1}/${ROUNDS} ${name}: ${result.rps.toFixed(0)} req/s, ${cpuUsPerRequest.toFixed(0)} µs CPU per request, p50 ${quantile(result.latenciesMs, 0.5).toFixed(2)} ms`,
          );
        }
      }
      const figures = (list: (LoadRound & { cpuUsPerRequest: number })[]): LoadFigures => {
        const latencies = list.flatMap((round) => round.latenciesMs);
        return {
          rps: summarize(list.map((round) => round.rps)),
          cpuUsPerRequest: list.map((round) => round.cpuUsPerRequest),
          p50Ms: quantile(latencies, 0.5),
          p99Ms: quantile(latencies, 0.99),
          errors: list.reduce((sum, round) => sum + round.errors, 0),
          non2xx: list.reduce((sum, round) => sum + round.non2xx, 0),
        };
      };
      return Object.fromEntries([...rounds].map(([name, list]) => [name, figures(list)])) as Record<
        Name,
        LoadFigures
      >;
    };

    const health = await phase(`/health, ${CONNECTIONS} connections`, READY_PATH, CONNECTIONS, [
      'bare',
      'hapi',
      'service',
    ]);
    const pgTargets = ['bare', 'service'] as const;
    const booksLatency = await phase('books, 1 connection', bookPath, 1, pgTargets);
    const booksThroughput = await phase(
      `books, ${CONNECTIONS} connections`,
      bookPath,
      CONNECTIONS,
      pgTargets,
    );
    const memoryAfter = (name: 'bare' | 'service'): MemoryFigures => {
      const now = memoryOf(servers[name].child.pid ?? 0);
      return { readyMb: readyMemory[name].rssMb, afterLoadMb: now.rssMb, peakMb: now.peakMb };
    };
    const memory = { bare: memoryAfter('bare'), service: memoryAfter('service') };

    const extra = { firstRequest, perRequest, readiness, adapterShare: adapter };
    const results: BenchResults = {
      coldStart,
      coldStartByCpu,
      throttling,
      health,
      booksLatency,
      booksThroughput,
      memory,
      bundleBytes,
    };
    const targets = evaluate(results);
    const table = renderReport(targets);
    const byCpu = coldStartByCpuTable(results);
    const bySize = memorySizeTable(results);
    const meta = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      loadAverageAtStart: loadAtStart,
      loadAverage: loadavg(),
      commit: await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoDir }).then(
        ({ stdout }) => stdout.trim(),
        () => 'unknown',
      ),
      settings: { runs: RUNS, seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS },
      prices: PRICES,
    };
    await mkdir(outDir, { recursive: true });
    const json = `${JSON.stringify({ meta, results, targets, coldFailures, ...extra }, null, 2)}\n`;
    const stamp = meta.date.replaceAll(':', '-').replace(/\..*$/, '');
    await writeFile(path.join(outDir, `results-${stamp}.json`), json);
    await writeFile(path.join(outDir, 'latest.json'), json);
    const markdown = [renderMarkdown(targets), '', markdownTable(byCpu), '', markdownTable(bySize)].join(
      '\n',
    );
    await writeFile(path.join(outDir, 'latest.md'), `${markdown}\n`);

    const errors = [health, booksLatency, booksThroughput].flatMap((p) => Object.values(p));
    const failures = errors.reduce((sum, f) => sum + f.errors + f.non2xx, 0);
    const lines = [
      '',
      table,
      '',
      `Cold start by CPU share (spawn → first 200 /health, medians; ${throttling.note}):`,
      formatTable(byCpu),
      '',
      'Cold start by Lambda memorySize (CPU share = memory / 1,769 MB; init = CPU to ready ÷ share):',
      formatTable(bySize),
      '',
      `Node ${meta.node} on ${meta.cpus}× ${meta.cpu}, load average ${meta.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')} at start, ${meta.loadAverage.map((l) => l.toFixed(2)).join(' ')} at end`,
      ...(failures > 0 ? [`WARNING: ${failures} failed or non-2xx responses during the load phases`] : []),
      ...(coldFailures.length > 0 ? [`WARNING: ${coldFailures.length} cold starts failed (see above)`] : []),
      `Results: ${path.relative(process.cwd(), path.join(outDir, 'latest.json'))} (table: latest.md)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
} finally {
  await cleanup();
  progress('done');
}

type LoadTarget = 'bare' | 'hapi' | 'service';

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir, { recursive: true })) {
    const info = await stat(path.join(dir, name));
    if (info.isFile()) total += info.size;
  }
  return total;
}

/** warm-compile-cache.mjs leaves the cache read-only (as the image wants); let us delete it again. */
async function makeWritable(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true }).catch(() => []);
  await chmod(dir, 0o755).catch(() => undefined);
  for (const name of entries) await chmod(path.join(dir, name), 0o755).catch(() => undefined);
}

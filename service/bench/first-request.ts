// The first database-backed answer after a cold start, and a warm request's CPU against one raw `pg` query
// of the same row (docs/performance.md, "The first database request" and "Per-request CPU").
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import pg from 'pg';
import { cpuMsOf, probe, waitFor200, type Running } from './processes.ts';
import type { ColdStartFigures } from './report.ts';
import { summarize } from './stats.ts';

/** The variants whose first GET /v1/books/{id} is measured after their first /health. */
export const FIRST_REQUEST_VARIANTS: ReadonlySet<string> = new Set(['snapshot']);

export interface FirstRequestSample {
  readonly healthWall: number[];
  readonly healthCpu: number[];
  readonly bookWall: number[];
  readonly bookCpu: number[];
}

export interface FirstRequestFigures {
  readonly level: string;
  readonly variant: string;
  readonly runs: number;
  /** Medians, ms since spawn. */
  readonly healthWallMs: number;
  readonly bookWallMs: number;
  readonly healthCpuMs: number;
  readonly bookCpuMs: number;
  /** Median of the per-run ratios first book answer ÷ first /health. */
  readonly wallRatio: number;
  readonly cpuRatio: number;
  /** CPU to the first /health ÷ hapi alone's, medians, same level. */
  readonly readyCpuVsHapi: number;
}

const median = (values: readonly number[]) => summarize([...values]).median;

export function firstRequestFigures(
  samples: ReadonlyMap<string, FirstRequestSample>,
  byCpu: Readonly<Record<string, Readonly<Record<string, ColdStartFigures>>>>,
  unthrottled: Readonly<Record<string, ColdStartFigures>>,
): FirstRequestFigures[] {
  return [...samples].map(([key, sample]) => {
    const [level = '', variant = ''] = key.split(' ');
    const ratios = (a: readonly number[], b: readonly number[]) => a.map((value, i) => value / (b[i] ?? NaN));
    const hapiCpu = (level === 'unthrottled' ? unthrottled : byCpu[level])?.hapi?.cpuMs.median ?? Number.NaN;
    return {
      level,
      variant,
      runs: sample.bookWall.length,
      healthWallMs: median(sample.healthWall),
      bookWallMs: median(sample.bookWall),
      healthCpuMs: median(sample.healthCpu),
      bookCpuMs: median(sample.bookCpu),
      wallRatio: median(ratios(sample.bookWall, sample.healthWall)),
      cpuRatio: median(ratios(sample.bookCpu, sample.healthCpu)),
      readyCpuVsHapi: median(sample.healthCpu) / hapiCpu,
    };
  });
}

export function firstRequestTable(figures: readonly FirstRequestFigures[]): string {
  const rows = figures.map(
    (f) =>
      `${`${f.level} ${f.variant}`.padEnd(22)} ${f.healthWallMs.toFixed(0).padStart(6)} ${f.bookWallMs.toFixed(0).padStart(6)} ${f.wallRatio.toFixed(2).padStart(6)}×  ${f.healthCpuMs.toFixed(0).padStart(6)} ${f.bookCpuMs.toFixed(0).padStart(6)} ${f.cpuRatio.toFixed(2).padStart(6)}×  ${f.readyCpuVsHapi.toFixed(2).padStart(5)}×  (${String(f.runs)} runs)`,
  );
  return [
    'First database request after a cold start (medians; ms since spawn; target book ÷ health ≤ 1.2×, ready CPU ÷ hapi alone ≤ 1.0× at 0.29):',
    `${'level variant'.padEnd(22)} ${'health'.padStart(6)} ${'book'.padStart(6)} ${'wall'.padStart(7)}  ${'CPU h'.padStart(6)} ${'CPU b'.padStart(6)} ${'CPU'.padStart(7)}  ${'vs hapi'.padStart(6)}`,
    ...rows,
  ].join('\n');
}

const SELECT_BOOK =
  'select id, title, author, isbn, published_year, created_at, updated_at from books where id = $1 and deleted_at is null';

export interface PerRequestOptions {
  readonly requests: number;
  readonly rounds: number;
  readonly bookPath: string;
  readonly databaseUrl: string;
  /** Starts the service (APP_ENV prod, the bundle); stopped again at the end. */
  readonly service: () => Promise<Running>;
  /** Another build of the service (BENCH_BASELINE_DIST), measured in the same rounds. */
  readonly baseline?: (() => Promise<Running>) | undefined;
  readonly progress: (message: string) => void;
}

export interface PerRequestFigures {
  readonly requests: number;
  /** CPU µs per query/request, one figure per round. */
  readonly rawPgUs: number[];
  readonly serviceUs: number[];
  readonly baselineUs?: number[] | undefined;
  /** Median service ÷ median raw pg (target ≤ 2.5). */
  readonly ratio: number;
}

/** `count` sequential GETs on one kept-alive connection; throws on a non-200. */
async function sequentialGets(port: number, routePath: string, count: number, agent: Agent): Promise<void> {
  for (let i = 0; i < count; i++) {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: routePath, agent }, (res) => {
        res.resume();
        res.once('end', () => {
          resolve(res.statusCode ?? 0);
        });
      });
      req.once('error', reject);
      req.end();
    });
    if (status !== 200) throw new Error(`GET ${routePath} answered ${String(status)}`);
  }
}

/**
 * Sequential requests, one at a time, so neither side queues: the service's CPU (all its threads, from
 * /proc) per GET /v1/books/{id} and this process's CPU (process.cpuUsage) per raw `pg` query of the same
 * row, same database URL; rounds interleaved.
 */
export async function perRequestCpu(options: PerRequestOptions): Promise<PerRequestFigures> {
  const { requests, rounds, bookPath, databaseUrl, progress } = options;
  const id = bookPath.split('/').at(-1) ?? '';
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const server = await options.service();
  const baseline = await options.baseline?.();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const baselineAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await waitFor200(server, '/health', performance.now());
    if (baseline !== undefined) {
      await waitFor200(baseline, '/health', performance.now());
      await sequentialGets(baseline.port, bookPath, Math.min(500, requests), baselineAgent);
    }
    const pid = server.child.pid ?? 0;
    const rawPg = async (count: number) => {
      for (let i = 0; i < count; i++) await client.query(SELECT_BOOK, [id]);
    };
    // Warm-up: JIT, the ORM's first load, pg's prepared statement cache.
    await rawPg(Math.min(500, requests));
    await sequentialGets(server.port, bookPath, Math.min(500, requests), agent);
    const rawPgUs: number[] = [];
    const serviceUs: number[] = [];
    const baselineUs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const before = process.cpuUsage();
      await rawPg(requests);
      const used = process.cpuUsage(before);
      rawPgUs.push((used.user + used.system) / requests);
      const cpuBefore = cpuMsOf(pid);
      await sequentialGets(server.port, bookPath, requests, agent);
      serviceUs.push(((cpuMsOf(pid) - cpuBefore) * 1000) / requests);
      if (baseline !== undefined) {
        const baselinePid = baseline.child.pid ?? 0;
        const before = cpuMsOf(baselinePid);
        await sequentialGets(baseline.port, bookPath, requests, baselineAgent);
        baselineUs.push(((cpuMsOf(baselinePid) - before) * 1000) / requests);
      }
      progress(
        `per request ${String(round + 1)}/${String(rounds)}: raw pg ${(rawPgUs.at(-1) ?? 0).toFixed(0)} µs CPU per query, service ${(serviceUs.at(-1) ?? 0).toFixed(0)} µs CPU per request${baseline === undefined ? '' : `, baseline ${(baselineUs.at(-1) ?? 0).toFixed(0)} µs`}`,
      );
    }
    return {
      requests,
      rawPgUs,
      serviceUs,
      ...(baseline === undefined ? {} : { baselineUs }),
      ratio: median(serviceUs) / median(rawPgUs),
    };
  } finally {
    agent.destroy();
    baselineAgent.destroy();
    await server.stop();
    await baseline?.stop();
    await client.end();
  }
}

export function perRequestTable(figures: PerRequestFigures): string {
  const list = (values: readonly number[]) => values.map((v) => v.toFixed(0)).join(', ');
  return [
    `Per-request CPU (µs, ${String(figures.requests)} sequential requests per round, APP_ENV=prod, target ≤ 2.5×):`,
    `  raw pg query (client CPU): ${list(figures.rawPgUs)}`,
    `  service GET /v1/books/{id} (server CPU): ${list(figures.serviceUs)}`,
    ...(figures.baselineUs === undefined
      ? []
      : [`  baseline build (BENCH_BASELINE_DIST), same rounds: ${list(figures.baselineUs)}`]),
    `  ratio of medians: ${figures.ratio.toFixed(2)}×`,
  ].join('\n');
}

/** Connects to the port every `intervalMs` until the connection is accepted (the adapter's TCP check). */
async function untilListening(server: Running, intervalMs: number, timeoutMs = 15_000): Promise<void> {
  const started = performance.now();
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (accepted) return;
    if (server.child.exitCode !== null) throw new Error(`server exited: ${server.stderr().slice(-2000)}`);
    if (performance.now() - started > timeoutMs) throw new Error('never listened');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls GET `path` every `intervalMs` until a 200 (the adapter's HTTP check). */
async function untilHealthy(
  server: Running,
  path: string,
  intervalMs: number,
  timeoutMs = 15_000,
): Promise<void> {
  const started = performance.now();
  while ((await probe(server.port, path)) !== 200) {
    if (server.child.exitCode !== null) throw new Error(`server exited: ${server.stderr().slice(-2000)}`);
    if (performance.now() - started > timeoutMs) throw new Error('never healthy');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface ReadinessFigures {
  readonly runs: number;
  /** Medians: spawn → ready as the check sees it, ms, and the server's CPU then, ms. */
  readonly http: { wallMs: number; cpuMs: number };
  readonly tcp: { wallMs: number; cpuMs: number };
}

/**
 * The adapter's two readiness checks emulated every 10 ms against the same start (`start`, e.g. the
 * snapshot at 0.29 vCPU), alternating: what the polling costs the server until it is ready.
 */
export async function readinessChecks(
  runs: number,
  start: () => Promise<Running>,
): Promise<ReadinessFigures> {
  const samples = {
    http: { wall: [] as number[], cpu: [] as number[] },
    tcp: { wall: [] as number[], cpu: [] as number[] },
  };
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 === 0 ? (['http', 'tcp'] as const) : (['tcp', 'http'] as const)) {
      const since = performance.now();
      const server = await start();
      try {
        if (mode === 'http') await untilHealthy(server, '/health', 10);
        else await untilListening(server, 10);
        samples[mode].wall.push(performance.now() - since);
        samples[mode].cpu.push(cpuMsOf(server.child.pid ?? 0));
      } finally {
        await server.stop();
      }
    }
  }
  const figures = (s: { wall: number[]; cpu: number[] }) => ({
    wallMs: median(s.wall),
    cpuMs: median(s.cpu),
  });
  return { runs, http: figures(samples.http), tcp: figures(samples.tcp) };
}

export function readinessTable(share: string, f: ReadinessFigures): string {
  return [
    `Readiness checks every 10 ms at ${share} vCPU (snapshot; medians of ${String(f.runs)}): spawn → ready, server CPU then`,
    `  HTTP GET /health: ${f.http.wallMs.toFixed(0)} ms, ${f.http.cpuMs.toFixed(0)} ms CPU`,
    `  TCP connect:      ${f.tcp.wallMs.toFixed(0)} ms, ${f.tcp.cpuMs.toFixed(0)} ms CPU`,
  ].join('\n');
}

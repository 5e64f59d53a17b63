// Turns benchmark measurements into targets (met / not met), Lambda cost estimates and a text table.
// Pure functions: the runner measures, this file only computes and formats.
import { quantile, type Summary } from './stats.ts';

/** Public AWS prices used for the cost figures (us-east-1, Nov 2026, first pricing tiers). */
export const PRICES = {
  /** Lambda arm64 compute, $ per GB-second (first 7.5 billion GB-s a month). */
  lambdaArmGbSecond: 0.0000133334,
  /** Lambda requests, $ per million. */
  lambdaRequestsPerMillion: 0.2,
  /** API Gateway HTTP API, $ per million requests (first 300 million a month). */
  httpApiPerMillion: 1.0,
  /** Lambda bills duration in 1 ms steps, rounded up. */
  billingGranularityMs: 1,
} as const;

export const FUNCTION_MEMORY_MB = 256;

export interface Cost {
  readonly billedMs: number;
  readonly computePerMillion: number;
  readonly requestsPerMillion: number;
  readonly httpApiPerMillion: number;
  readonly totalPerMillion: number;
}

/** $ per million invocations of a function of `memoryMb` whose invocations each last `durationMs`. */
export function lambdaCost(durationMs: number, memoryMb = FUNCTION_MEMORY_MB): Cost {
  const step = PRICES.billingGranularityMs;
  const billedMs = Math.max(step, Math.ceil(durationMs / step) * step);
  const computePerMillion = (memoryMb / 1024) * (billedMs / 1000) * PRICES.lambdaArmGbSecond * 1e6;
  const totalPerMillion = computePerMillion + PRICES.lambdaRequestsPerMillion + PRICES.httpApiPerMillion;
  return {
    billedMs,
    computePerMillion,
    requestsPerMillion: PRICES.lambdaRequestsPerMillion,
    httpApiPerMillion: PRICES.httpApiPerMillion,
    totalPerMillion,
  };
}

export interface Target {
  readonly figure: string;
  readonly value: string;
  readonly spread: string;
  readonly target: string;
  /** undefined: informational figure without a target. */
  readonly met: boolean | undefined;
}

export interface ColdStartFigures {
  readonly wallMs: Summary;
  readonly cpuMs: Summary;
  readonly rssMb: Summary;
}

export interface LoadFigures {
  /** Requests per second, one value per round. */
  readonly rps: Summary;
  /**
   * CPU time of the server process (all threads) per request completed, µs, one value per round in round
   * order (NaN where /proc is unavailable). Unlike req/s it does not depend on the load generator, which
   * shares the machine's cores with the server.
   */
  readonly cpuUsPerRequest: readonly number[];
  /** Exact per-request latencies over all rounds, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly non2xx: number;
}

export interface MemoryFigures {
  readonly readyMb: number;
  readonly afterLoadMb: number;
  readonly peakMb: number;
}

/** Whether cold starts could be measured under a cgroup CPU quota, and if not, why. */
export interface CpuThrottling {
  readonly available: boolean;
  readonly note: string;
}

export interface BenchResults {
  /** Unthrottled cold starts (a whole core), by variant. */
  readonly coldStart: Readonly<Record<string, ColdStartFigures>>;
  /** Cold starts under a CPU quota, by share (e.g. "0.29") and variant; empty when not available. */
  readonly coldStartByCpu: Readonly<Record<string, Readonly<Record<string, ColdStartFigures>>>>;
  readonly throttling: CpuThrottling;
  /** `hapi`: hapi alone with one route (bench/hapi-floor.mjs), the framework's own floor. */
  readonly health: { readonly bare: LoadFigures; readonly hapi: LoadFigures; readonly service: LoadFigures };
  readonly booksLatency: { readonly bare: LoadFigures; readonly service: LoadFigures };
  readonly booksThroughput: { readonly bare: LoadFigures; readonly service: LoadFigures };
  readonly memory: { readonly bare: MemoryFigures; readonly service: MemoryFigures };
  readonly bundleBytes: number;
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const mb = (value: number) => `${value.toFixed(1)} MB`;
const rps = (value: number) => `${Math.round(value)} req/s`;
const ratio = (value: number) => `${value.toFixed(2)}×`;
const us = (value: number) => `${value.toFixed(0)} µs`;
const spreadOf = (s: Summary, unit: (v: number) => string) => `p10 ${unit(s.p10)} · p90 ${unit(s.p90)}`;

/** The cold-start variant names, in the order the tables list them. */
export const COLD_START_VARIANTS = [
  'bare',
  'hapi',
  'bundled',
  'bundled+cache',
  'snapshot',
  'unbundled',
] as const;
/** The variants the 2× cold-start target applies to: what the image runs. */
const SHIPPED_VARIANTS: readonly string[] = ['bundled', 'bundled+cache', 'snapshot'];
/** What the image runs (`node --snapshot-blob snapshot.blob`): the service in the CPU tables. */
export const SHIPPED_VARIANT = 'snapshot';
/** The variants measured under a CPU quota too: the two floors and what the image runs. */
export const THROTTLED_VARIANTS = ['bare', 'hapi', SHIPPED_VARIANT] as const;
/** The CPU shares cold starts are measured at: 512 MB (Lambda's console default) and 1,769 MB. */
export const CPU_SHARES = [0.29, 1] as const;
/** Lambda's memory sizes docs/performance.md compares; 1,769 MB is one full vCPU. */
export const MEMORY_SIZES_MB = [256, 512, 1024, 1769] as const;
export const MB_PER_VCPU = 1769;

/** The key of a CPU share in `coldStartByCpu`. */
export const shareKey = (share: number) => share.toFixed(2);

/** Target: what the service adds to hapi alone at start-up, as CPU time to ready. */
const SERVICE_OVER_HAPI_CPU = 1.3;
/** Target: the service's CPU per /health request against hapi alone's, as hapi ÷ service. */
const HAPI_OVER_SERVICE_CPU_PER_REQUEST = 0.8;
/** Target: spawn → ready at 512 MB's share. */
const WALL_AT_LOW_SHARE_MS = 1000;

export function evaluate(results: BenchResults): Target[] {
  const rows: Target[] = [];
  const bare = results.coldStart.bare;
  for (const variant of COLD_START_VARIANTS) {
    const figures = results.coldStart[variant];
    if (figures === undefined) continue;
    rows.push({
      figure: `cold start: ${variant} (spawn → first 200 /health)`,
      value: ms(figures.wallMs.median),
      spread: spreadOf(figures.wallMs, ms),
      target: '',
      met: undefined,
    });
  }
  for (const variant of COLD_START_VARIANTS.slice(1)) {
    const figures = results.coldStart[variant];
    if (figures === undefined || bare === undefined) continue;
    const wall = figures.wallMs.median / bare.wallMs.median;
    const shipped = SHIPPED_VARIANTS.includes(variant);
    rows.push({
      figure: `cold start ratio ${variant} / bare`,
      value: ratio(wall),
      spread: `CPU ${ms(figures.cpuMs.median)} vs ${ms(bare.cpuMs.median)} (${ratio(figures.cpuMs.median / bare.cpuMs.median)})`,
      target: shipped ? '≤ 2.00×' : '',
      met: shipped ? wall <= 2 : undefined,
    });
  }

  const service = results.coldStart[SHIPPED_VARIANT];
  const hapi = results.coldStart.hapi;
  if (service !== undefined && hapi !== undefined) {
    const cpu = service.cpuMs.median / hapi.cpuMs.median;
    rows.push({
      figure: `cold start CPU to ready: service (${SHIPPED_VARIANT}) / hapi alone`,
      value: ratio(cpu),
      spread: `${ms(service.cpuMs.median)} vs ${ms(hapi.cpuMs.median)}; wall ${ratio(service.wallMs.median / hapi.wallMs.median)}`,
      target: `≤ ${ratio(SERVICE_OVER_HAPI_CPU)}`,
      met: cpu <= SERVICE_OVER_HAPI_CPU,
    });
  }
  rows.push(...throttledRows(results));

  const { health, booksLatency, booksThroughput } = results;
  rows.push(
    throughputRatio('/health throughput: service / bare', health.service, health.bare, 0.6),
    throughputRatio('/health throughput: hapi alone / bare', health.hapi, health.bare),
    throughputRatio('/health throughput: service / hapi alone', health.service, health.hapi, undefined, [
      'no target: req/s is bounded by the load generator on the same cores (see CPU per request)',
    ]),
  );
  rows.push(cpuPerRequestRow(health.service, health.hapi, health.bare));
  rows.push({
    figure: '/health latency under load p50 / p99 (service)',
    value: `${ms(health.service.p50Ms)} / ${ms(health.service.p99Ms)}`,
    spread: `bare ${ms(health.bare.p50Ms)} / ${ms(health.bare.p99Ms)}`,
    target: '',
    met: undefined,
  });
  const p50Gap = booksLatency.service.p50Ms - booksLatency.bare.p50Ms;
  rows.push({
    figure: 'GET /v1/books/:id p50, 1 connection: service − raw pg',
    value: `+${ms(p50Gap)}`,
    spread: `${ms(booksLatency.service.p50Ms)} vs ${ms(booksLatency.bare.p50Ms)}`,
    target: '≤ +1 ms',
    met: p50Gap <= 1,
  });
  rows.push({
    figure: 'GET /v1/books/:id p99, 1 connection: service − raw pg',
    value: `+${ms(booksLatency.service.p99Ms - booksLatency.bare.p99Ms)}`,
    spread: `${ms(booksLatency.service.p99Ms)} vs ${ms(booksLatency.bare.p99Ms)}`,
    target: '',
    met: undefined,
  });
  rows.push(
    throughputRatio(
      'GET /v1/books/:id throughput: service / raw pg',
      booksThroughput.service,
      booksThroughput.bare,
    ),
  );

  const shipped = results.coldStart.bundled;
  if (shipped !== undefined) {
    rows.push({
      figure: 'RSS at ready: bundled service',
      value: mb(shipped.rssMb.median),
      spread: `bare ${mb(results.coldStart.bare?.rssMb.median ?? Number.NaN)}`,
      target: '≤ 90 MB',
      met: shipped.rssMb.median <= 90,
    });
  }
  rows.push({
    figure: 'RSS after load phases (peak): service',
    value: `${mb(results.memory.service.afterLoadMb)} (${mb(results.memory.service.peakMb)})`,
    spread: `bare ${mb(results.memory.bare.afterLoadMb)} (${mb(results.memory.bare.peakMb)})`,
    target: '',
    met: undefined,
  });
  rows.push({
    figure: 'bundle size on disk (dist/)',
    value: mb(results.bundleBytes / 1024 / 1024),
    spread: '',
    target: '≤ 5 MB',
    met: results.bundleBytes <= 5 * 1024 * 1024,
  });

  const serviceCost = lambdaCost(booksLatency.service.p50Ms);
  const bareCost = lambdaCost(booksLatency.bare.p50Ms);
  rows.push({
    figure: `$ per 1M books reads (${FUNCTION_MEMORY_MB} MB arm64 + HTTP API)`,
    value: `$${serviceCost.totalPerMillion.toFixed(4)}`,
    spread: `compute $${serviceCost.computePerMillion.toFixed(4)} (${serviceCost.billedMs} ms billed); bare $${bareCost.totalPerMillion.toFixed(4)}`,
    target: '',
    met: undefined,
  });
  const init = results.coldStart[SHIPPED_VARIANT] ?? shipped;
  if (init !== undefined) {
    rows.push({
      figure: `$ per 1M cold starts (init billed, ${FUNCTION_MEMORY_MB} MB)`,
      value: `$${lambdaCost(init.wallMs.median).computePerMillion.toFixed(2)}`,
      spread: `${ms(init.wallMs.median)} init`,
      target: '',
      met: undefined,
    });
  }
  return rows;
}

/** Per CPU share: the service's wall time to ready, and its ratios to hapi alone and hapi to bare. */
function throttledRows(results: BenchResults): Target[] {
  const rows: Target[] = [];
  for (const share of CPU_SHARES) {
    const level = results.coldStartByCpu[shareKey(share)];
    const service = level?.[SHIPPED_VARIANT];
    const { hapi, bare } = level ?? {};
    if (service === undefined) continue;
    const low = share < 1;
    rows.push({
      figure: `cold start at ${shareKey(share)} vCPU: service (spawn → first 200 /health)`,
      value: ms(service.wallMs.median),
      spread: spreadOf(service.wallMs, ms),
      target: low ? `≤ ${ms(WALL_AT_LOW_SHARE_MS)}` : '',
      met: low ? service.wallMs.median <= WALL_AT_LOW_SHARE_MS : undefined,
    });
    if (hapi !== undefined) {
      rows.push({
        figure: `cold start at ${shareKey(share)} vCPU: service / hapi alone`,
        value: ratio(service.wallMs.median / hapi.wallMs.median),
        spread: `${ms(service.wallMs.median)} vs ${ms(hapi.wallMs.median)}; CPU ${ratio(service.cpuMs.median / hapi.cpuMs.median)}`,
        target: '',
        met: undefined,
      });
    }
    if (hapi !== undefined && bare !== undefined) {
      rows.push({
        figure: `cold start at ${shareKey(share)} vCPU: hapi alone / bare`,
        value: ratio(hapi.wallMs.median / bare.wallMs.median),
        spread: `${ms(hapi.wallMs.median)} vs ${ms(bare.wallMs.median)}`,
        target: '',
        met: undefined,
      });
    }
  }
  return rows;
}

/** Cold starts by CPU share, wall time (median) per variant: one row per share, unthrottled last. */
export function coldStartByCpuTable(results: BenchResults): string[][] {
  const header = [
    'CPU share',
    'bare node:http',
    'hapi alone',
    'service',
    'service / hapi',
    'CPU service / hapi',
  ];
  const row = (label: string, level: Readonly<Record<string, ColdStartFigures>> | undefined) => {
    const wall = (variant: string) => level?.[variant]?.wallMs.median ?? Number.NaN;
    const cpu = (variant: string) => level?.[variant]?.cpuMs.median ?? Number.NaN;
    return [
      label,
      ms(wall('bare')),
      ms(wall('hapi')),
      ms(wall(SHIPPED_VARIANT)),
      ratio(wall(SHIPPED_VARIANT) / wall('hapi')),
      ratio(cpu(SHIPPED_VARIANT) / cpu('hapi')),
    ];
  };
  const throttled = CPU_SHARES.filter((share) => results.coldStartByCpu[shareKey(share)] !== undefined);
  return [
    header,
    ...throttled.map((share) => row(`${shareKey(share)} vCPU`, results.coldStartByCpu[shareKey(share)])),
    row('unthrottled', results.coldStart),
  ];
}

export interface MemorySizeEstimate {
  readonly memoryMb: number;
  /** vCPU Lambda gives this size: memory / 1,769 MB, at most 1 (a single-threaded start gains no more). */
  readonly share: number;
  /** Estimated init (spawn → ready): the CPU time to ready at this share, never below the unthrottled wall. */
  readonly initMs: number;
  /** Billed compute for a million cold starts' init at this size (arm64). */
  readonly perMillionColdStarts: number;
}

/**
 * Init time and cost of a cold start at each memory size, from the CPU time to ready measured on a
 * whole core: under a CFS quota the process gets `share` of a CPU, so CPU-bound start-up stretches by
 * 1 / share; it cannot be faster than the unthrottled wall time (I/O, a thread waiting on another).
 */
export function memorySizeEstimates(
  cpuMs: number,
  unthrottledWallMs: number,
  sizesMb: readonly number[] = MEMORY_SIZES_MB,
): MemorySizeEstimate[] {
  return sizesMb.map((memoryMb) => {
    const share = Math.min(memoryMb / MB_PER_VCPU, 1);
    const initMs = Math.max(cpuMs / share, unthrottledWallMs);
    return { memoryMb, share, initMs, perMillionColdStarts: lambdaCost(initMs, memoryMb).computePerMillion };
  });
}

/** The memory-size table for the shipped service, with the wall time measured at that share if any. */
export function memorySizeTable(results: BenchResults): string[][] {
  const service = results.coldStart[SHIPPED_VARIANT];
  if (service === undefined) return [];
  // 512 MB is 0.29 vCPU and 1,769 MB is 1.00: the shares the bench measures, keyed alike.
  const measured = (share: number) => results.coldStartByCpu[shareKey(share)]?.[SHIPPED_VARIANT];
  return [
    ['memorySize', 'vCPU', 'init (estimated)', 'measured here at that share', '$ per 1M cold starts (init)'],
    ...memorySizeEstimates(service.cpuMs.median, service.wallMs.median).map((estimate) => [
      `${estimate.memoryMb} MB`,
      estimate.share.toFixed(2),
      ms(estimate.initMs),
      ms(measured(estimate.share)?.wallMs.median ?? Number.NaN).replace('NaN ms', ''),
      `$${estimate.perMillionColdStarts.toFixed(2)}`,
    ]),
  ];
}

/** A table (first row the header) in Markdown, pipes escaped. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const [header, ...body] = rows;
  if (header === undefined) return '';
  const line = (row: readonly string[]) =>
    `| ${row.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), `| ${header.map(() => '---').join(' | ')} |`, ...body.map(line)].join('\n');
}

/**
 * hapi alone's CPU per /health request over the service's, median of the per-round ratios (the rounds
 * interleave the servers, so each round's pair saw the same machine). Not judged without /proc.
 */
function cpuPerRequestRow(service: LoadFigures, hapi: LoadFigures, bare: LoadFigures): Target {
  const perRound = service.cpuUsPerRequest
    .map((serviceUs, round) => (hapi.cpuUsPerRequest[round] ?? Number.NaN) / serviceUs)
    .filter(Number.isFinite);
  const value = quantile(perRound, 0.5);
  const median = (figures: LoadFigures) => us(quantile(figures.cpuUsPerRequest, 0.5));
  const measured = Number.isFinite(value);
  return {
    figure: '/health CPU per request: service / hapi alone',
    value: measured ? ratio(value) : 'not measured',
    spread: `hapi alone µs ÷ service µs, median of ${perRound.length} rounds: service ${median(service)} vs hapi alone ${median(hapi)} (bare ${median(bare)})`,
    target: `≥ ${ratio(HAPI_OVER_SERVICE_CPU_PER_REQUEST)}`,
    met: measured ? value >= HAPI_OVER_SERVICE_CPU_PER_REQUEST : undefined,
  };
}

/** Median requests per second of `measured` over `reference`; judged only when `minimum` is given. */
function throughputRatio(
  figure: string,
  measured: LoadFigures,
  reference: LoadFigures,
  minimum?: number,
  notes: readonly string[] = [],
): Target {
  const value = measured.rps.median / reference.rps.median;
  return {
    figure,
    value: ratio(value),
    spread: [`${rps(measured.rps.median)} vs ${rps(reference.rps.median)}`, ...notes].join('; '),
    target: minimum === undefined ? '' : `≥ ${ratio(minimum)}`,
    met: minimum === undefined ? undefined : value >= minimum,
  };
}

/** A plain-text table with aligned columns (the first row is the header). */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join(' │ ')
      .trimEnd();
  const [header, ...body] = rows;
  if (header === undefined) return '';
  const rule = widths.map((width) => '─'.repeat(width)).join('─┼─');
  return [line(header), rule, ...body.map(line)].join('\n');
}

export function metLabel(met: boolean | undefined): string {
  if (met === undefined) return '';
  return met ? 'met' : 'NOT MET';
}

export function renderReport(targets: readonly Target[]): string {
  return formatTable([
    ['Figure', 'Value', 'Detail / spread', 'Target', 'Met'],
    ...targets.map((t) => [t.figure, t.value, t.spread, t.target, metLabel(t.met)]),
  ]);
}

/** The same table in Markdown, for docs/performance.md. */
export function renderMarkdown(targets: readonly Target[]): string {
  const escape = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    '| Figure | Value | Detail / spread | Target | Met |',
    '| --- | --- | --- | --- | --- |',
    ...targets.map(
      (t) => `| ${[t.figure, t.value, t.spread, t.target, metLabel(t.met)].map(escape).join(' | ')} |`,
    ),
  ].join('\n');
}

// Turns benchmark measurements into targets (met / not met), Lambda cost estimates and a text table.
// Pure functions: the runner measures, this file only computes and formats.
import type { Summary } from './stats.ts';

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

export interface BenchResults {
  readonly coldStart: Readonly<Record<string, ColdStartFigures>>;
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
const spreadOf = (s: Summary, unit: (v: number) => string) => `p10 ${unit(s.p10)} · p90 ${unit(s.p90)}`;

/** The cold-start variant names, in the order the tables list them. */
export const COLD_START_VARIANTS = ['bare', 'hapi', 'bundled', 'bundled+cache', 'unbundled'] as const;
/** The variants the 2× cold-start target applies to: what the image runs. */
const SHIPPED_VARIANTS: readonly string[] = ['bundled', 'bundled+cache'];

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

  const { health, booksLatency, booksThroughput } = results;
  rows.push(
    throughputRatio('/health throughput: service / bare', health.service, health.bare, 0.6),
    throughputRatio('/health throughput: hapi alone / bare', health.hapi, health.bare),
    throughputRatio('/health throughput: service / hapi alone', health.service, health.hapi),
  );
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
  const init = results.coldStart['bundled+cache'] ?? shipped;
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

/** Median requests per second of `measured` over `reference`; judged only when `minimum` is given. */
function throughputRatio(
  figure: string,
  measured: LoadFigures,
  reference: LoadFigures,
  minimum?: number,
): Target {
  const value = measured.rps.median / reference.rps.median;
  return {
    figure,
    value: ratio(value),
    spread: `${rps(measured.rps.median)} vs ${rps(reference.rps.median)}`,
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

/** The same table in Markdown, for the README. */
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
